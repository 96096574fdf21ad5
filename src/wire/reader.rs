//! A bounds-checked byte reader that knows the absolute stream offset of every byte it reads.
//!
//! Running out of bytes is reported as [`Short`] (how many bytes were needed, how many were
//! there, and where), never as a panic. Callers that parse a stream decide whether a short read
//! means "wait for more bytes" (the chunk layer) or "the declared structure is truncated" (a
//! message body, whose length is already known).

use std::fmt;

/// Not enough bytes: `needed` bytes were requested at absolute offset `offset`, only
/// `available` remained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Short {
    pub offset: u64,
    pub needed: usize,
    pub available: usize,
}

impl fmt::Display for Short {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "needed {} bytes at offset {} but only {} remain",
            self.needed, self.offset, self.available
        )
    }
}

impl std::error::Error for Short {}

/// Cursor over a byte slice whose first byte sits at absolute stream offset `base`.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: u64,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], base: u64) -> Self {
        Reader { buf, pos: 0, base }
    }

    /// Absolute offset of the next byte to be read.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Position relative to the start of this reader's slice.
    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The unread bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    fn short(&self, needed: usize) -> Short {
        Short {
            offset: self.offset(),
            needed,
            available: self.remaining(),
        }
    }

    /// Takes exactly `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Short> {
        if n > self.remaining() {
            return Err(self.short(n));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// A sub-reader over the next `n` bytes (consumed from this reader), keeping absolute offsets.
    pub fn sub(&mut self, n: usize) -> Result<Reader<'a>, Short> {
        let base = self.offset();
        let s = self.take(n)?;
        Ok(Reader::new(s, base))
    }

    /// Takes everything that is left.
    pub fn take_rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }

    pub fn peek_u8(&self) -> Result<u8, Short> {
        self.buf.get(self.pos).copied().ok_or_else(|| self.short(1))
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Short> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    pub fn u8(&mut self) -> Result<u8, Short> {
        let v = self.peek_u8()?;
        self.pos += 1;
        Ok(v)
    }

    pub fn u16_be(&mut self) -> Result<u16, Short> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub fn u16_le(&mut self) -> Result<u16, Short> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub fn u24_be(&mut self) -> Result<u32, Short> {
        let [a, b, c] = self.array()?;
        Ok(u32::from_be_bytes([0, a, b, c]))
    }

    /// Signed 24-bit big-endian (FLV composition time).
    pub fn i24_be(&mut self) -> Result<i32, Short> {
        let v = self.u24_be()?;
        Ok(((v << 8) as i32) >> 8)
    }

    pub fn u32_be(&mut self) -> Result<u32, Short> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub fn u32_le(&mut self) -> Result<u32, Short> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn i16_be(&mut self) -> Result<i16, Short> {
        Ok(i16::from_be_bytes(self.array()?))
    }

    pub fn f64_be(&mut self) -> Result<f64, Short> {
        Ok(f64::from_be_bytes(self.array()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_with_absolute_offsets() {
        let mut r = Reader::new(&[1, 2, 3, 0xff, 0xff, 0xfe], 100);
        assert_eq!(r.u8(), Ok(1));
        assert_eq!(r.offset(), 101);
        assert_eq!(r.u16_be(), Ok(0x0203));
        assert_eq!(r.i24_be(), Ok(-2));
        assert_eq!(
            r.u8(),
            Err(Short {
                offset: 106,
                needed: 1,
                available: 0
            })
        );
    }

    #[test]
    fn rejects_take_beyond_end_without_consuming() {
        let mut r = Reader::new(&[1, 2], 0);
        assert_eq!(
            r.take(3),
            Err(Short {
                offset: 0,
                needed: 3,
                available: 2
            })
        );
        assert_eq!(r.remaining(), 2);
        let mut s = r.sub(1).unwrap();
        assert_eq!(s.offset(), 0);
        assert_eq!(s.u8(), Ok(1));
        assert_eq!(r.offset(), 1);
    }
}
