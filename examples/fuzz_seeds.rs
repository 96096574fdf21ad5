//! Writes seed corpora for the fuzz targets from capture files:
//! `cargo run --release --example fuzz_seeds -- OUT_DIR CAPTURE...` creates
//! `OUT_DIR/TARGET/CAPTURE-N` for every seed `rtmpscope::fuzzing::seeds` makes.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args_os().skip(1);
    let Some(out) = args.next() else {
        eprintln!("usage: fuzz_seeds OUT_DIR CAPTURE...");
        std::process::exit(2);
    };
    let out = Path::new(&out);
    let mut written = 0;
    for capture in args {
        let capture = Path::new(&capture);
        let stem = capture.file_stem().unwrap_or_default().to_string_lossy().into_owned();
        for (n, (target, input)) in rtmpscope::fuzzing::seeds(&std::fs::read(capture)?).into_iter().enumerate() {
            let dir = out.join(target);
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join(format!("{stem}-{n}")), input)?;
            written += 1;
        }
    }
    eprintln!("{written} seeds written to {}", out.display());
    Ok(())
}
