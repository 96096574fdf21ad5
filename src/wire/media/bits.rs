//! A bit reader for codec headers (MSB first), with Exp-Golomb codes (H.264 §9.1), and the
//! removal of emulation prevention bytes from a NAL unit payload (H.264 §7.4.1).

/// Ran out of bits or met a code longer than 32 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BitsExhausted;

#[derive(Debug, Clone)]
pub struct BitReader<'a> {
    buf: &'a [u8],
    bit: usize,
}

impl<'a> BitReader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        BitReader { buf, bit: 0 }
    }

    pub fn bits_left(&self) -> usize {
        (self.buf.len() * 8).saturating_sub(self.bit)
    }

    pub fn bit(&mut self) -> Result<bool, BitsExhausted> {
        let byte = self.buf.get(self.bit / 8).ok_or(BitsExhausted)?;
        let v = (byte >> (7 - (self.bit % 8))) & 1;
        self.bit += 1;
        Ok(v == 1)
    }

    /// Up to 32 bits as an unsigned value.
    pub fn bits(&mut self, n: u32) -> Result<u32, BitsExhausted> {
        debug_assert!(n <= 32);
        if self.bits_left() < n as usize {
            return Err(BitsExhausted);
        }
        let mut v: u64 = 0;
        for _ in 0..n {
            v = (v << 1) | u64::from(self.bit()?);
        }
        Ok(v as u32)
    }

    pub fn skip(&mut self, n: usize) -> Result<(), BitsExhausted> {
        if self.bits_left() < n {
            return Err(BitsExhausted);
        }
        self.bit += n;
        Ok(())
    }

    /// ue(v): unsigned Exp-Golomb; codes above 32 bits are refused.
    pub fn ue(&mut self) -> Result<u32, BitsExhausted> {
        let mut zeros = 0u32;
        while !self.bit()? {
            zeros += 1;
            if zeros > 31 {
                return Err(BitsExhausted);
            }
        }
        let rest = self.bits(zeros)?;
        Ok(((1u64 << zeros) - 1 + u64::from(rest)) as u32)
    }

    /// se(v): signed Exp-Golomb.
    pub fn se(&mut self) -> Result<i32, BitsExhausted> {
        let k = i64::from(self.ue()?);
        Ok(if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) } as i32)
    }
}

/// The RBSP of a NAL unit payload: every 00 00 03 loses its 03.
pub fn unescape(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_exp_golomb() {
        // 1 | 010 | 011 | 00100 | 00101 → 0, 1, 2, 3, -2 (se of 4)
        let mut r = BitReader::new(&[0b1010_0110, 0b0100_0010, 0b1000_0000]);
        assert_eq!(r.ue(), Ok(0));
        assert_eq!(r.ue(), Ok(1));
        assert_eq!(r.ue(), Ok(2));
        assert_eq!(r.ue(), Ok(3));
        assert_eq!(r.se(), Ok(-2));
    }

    #[test]
    fn rejects_long_codes_and_exhaustion() {
        assert_eq!(BitReader::new(&[0, 0, 0, 0, 0]).ue(), Err(BitsExhausted));
        assert_eq!(BitReader::new(&[]).bit(), Err(BitsExhausted));
        assert_eq!(BitReader::new(&[0xff]).bits(9), Err(BitsExhausted));
    }

    #[test]
    fn accepts_unescape() {
        assert_eq!(unescape(&[0, 0, 3, 1, 0, 0, 3, 0, 3]), vec![0, 0, 1, 0, 0, 0, 3]);
    }
}
