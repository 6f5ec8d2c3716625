//! Incremental chunked transfer-coding decoder and encoder.
//!
//! The decoder is a byte-level state machine so it gives identical results
//! however the input is split across reads, which matters for SSE relaying
//! where upstream chunks arrive in arbitrary TCP segments. Extensions and
//! trailers are validated and dropped: the gateway re-frames what it
//! forwards, so nothing in them needs to survive.

use super::error::CodecError;

/// The terminating zero-size chunk with an empty trailer section.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// Most bytes a chunk-size line may carry after the size digits.
const MAX_EXTENSION_BYTES: usize = 1024;

/// u64 needs at most 16 hex digits; leading zeros are counted too, so that a
/// size line cannot be padded without limit.
const MAX_SIZE_DIGITS: usize = 16;

/// Result of one [`ChunkedDecoder::decode`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeStatus {
    /// The body is not finished; feed more input.
    NeedMore,
    /// The last chunk and trailers have been consumed.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading hex digits of a chunk size.
    Size {
        digits: usize,
    },
    /// Whitespace after the size; only a `;` extension may follow.
    SizeWs,
    /// Skipping a chunk extension.
    Ext {
        len: usize,
    },
    /// Saw CR ending the size line.
    SizeLf,
    /// Copying chunk payload.
    Data,
    /// Expecting CR after payload.
    DataCr,
    /// Expecting LF after payload.
    DataLf,
    /// At the start of a trailer line (or the final blank line).
    TrailerStart,
    /// Inside a trailer field line.
    TrailerLine,
    /// Saw CR ending a trailer line.
    TrailerLf,
    /// Saw CR of the final blank line.
    FinalLf,
    Done,
}

/// Streaming decoder for `Transfer-Encoding: chunked` bodies.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    /// Size being parsed, then payload bytes still to copy.
    remaining: u64,
    trailer_bytes: usize,
    max_trailer_bytes: usize,
}

impl ChunkedDecoder {
    /// Creates a decoder accepting at most `max_trailer_bytes` of trailer
    /// section (field lines plus their CRLFs, excluding the final CRLF).
    pub fn new(max_trailer_bytes: usize) -> Self {
        ChunkedDecoder {
            state: State::Size { digits: 0 },
            remaining: 0,
            trailer_bytes: 0,
            max_trailer_bytes,
        }
    }

    /// Whether the terminating chunk and trailers have been consumed.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    fn add_trailer_byte(&mut self) -> Result<(), CodecError> {
        self.trailer_bytes += 1;
        if self.trailer_bytes > self.max_trailer_bytes {
            return Err(CodecError::TrailersTooLarge);
        }
        Ok(())
    }

    /// Consumes bytes from `input`, appending decoded payload to `out`.
    ///
    /// Returns the number of bytes consumed and whether the body is
    /// complete. All of `input` is consumed unless the body ends inside it;
    /// then the bytes after the body (e.g. a pipelined request) are left.
    /// After an error the decoder state is unspecified and the connection
    /// must be dropped.
    pub fn decode(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(usize, DecodeStatus), CodecError> {
        let mut i = 0;
        while i < input.len() {
            if self.state == State::Data {
                // Bulk copy: the only state that sees large volumes.
                let avail = input.len() - i;
                let take = usize::try_from(self.remaining).map_or(avail, |r| r.min(avail));
                out.extend_from_slice(&input[i..i + take]);
                i += take;
                self.remaining -= take as u64;
                if self.remaining == 0 {
                    self.state = State::DataCr;
                }
                continue;
            }
            let b = input[i];
            i += 1;
            self.state = match self.state {
                State::Size { digits } => match b {
                    b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                        if digits >= MAX_SIZE_DIGITS {
                            return Err(CodecError::InvalidChunk);
                        }
                        let v = match b {
                            b'0'..=b'9' => b - b'0',
                            b'a'..=b'f' => b - b'a' + 10,
                            _ => b - b'A' + 10,
                        };
                        // 16 digits always fit in u64, but stay explicit.
                        self.remaining = self
                            .remaining
                            .checked_mul(16)
                            .and_then(|n| n.checked_add(u64::from(v)))
                            .ok_or(CodecError::InvalidChunk)?;
                        State::Size { digits: digits + 1 }
                    }
                    _ if digits == 0 => return Err(CodecError::InvalidChunk),
                    b'\r' => State::SizeLf,
                    b'\n' => return Err(CodecError::BareLf),
                    b';' => State::Ext { len: 1 },
                    b' ' | b'\t' => State::SizeWs,
                    _ => return Err(CodecError::InvalidChunk),
                },
                State::SizeWs => match b {
                    b' ' | b'\t' => State::SizeWs,
                    b';' => State::Ext { len: 1 },
                    _ => return Err(CodecError::InvalidChunk),
                },
                State::Ext { len } => match b {
                    b'\r' => State::SizeLf,
                    b'\n' => return Err(CodecError::BareLf),
                    b'\t' | 0x20..=0x7e | 0x80..=0xff => {
                        if len >= MAX_EXTENSION_BYTES {
                            return Err(CodecError::ChunkExtensionTooLong);
                        }
                        State::Ext { len: len + 1 }
                    }
                    _ => return Err(CodecError::InvalidChunk),
                },
                State::SizeLf => match b {
                    b'\n' if self.remaining == 0 => State::TrailerStart,
                    b'\n' => State::Data,
                    _ => return Err(CodecError::InvalidChunk),
                },
                State::DataCr => match b {
                    b'\r' => State::DataLf,
                    b'\n' => return Err(CodecError::BareLf),
                    _ => return Err(CodecError::InvalidChunk),
                },
                State::DataLf => match b {
                    b'\n' => {
                        self.remaining = 0;
                        State::Size { digits: 0 }
                    }
                    _ => return Err(CodecError::InvalidChunk),
                },
                State::TrailerStart => match b {
                    b'\r' => State::FinalLf,
                    b' ' | b'\t' => return Err(CodecError::ObsFold),
                    b'\n' => return Err(CodecError::BareLf),
                    0x21..=0x7e => {
                        self.add_trailer_byte()?;
                        State::TrailerLine
                    }
                    _ => return Err(CodecError::InvalidChunk),
                },
                State::TrailerLine => match b {
                    b'\r' => {
                        self.add_trailer_byte()?;
                        State::TrailerLf
                    }
                    b'\n' => return Err(CodecError::BareLf),
                    b'\t' | 0x20..=0x7e | 0x80..=0xff => {
                        self.add_trailer_byte()?;
                        State::TrailerLine
                    }
                    _ => return Err(CodecError::InvalidHeaderValue),
                },
                State::TrailerLf => match b {
                    b'\n' => {
                        self.add_trailer_byte()?;
                        State::TrailerStart
                    }
                    _ => return Err(CodecError::InvalidChunk),
                },
                State::FinalLf => match b {
                    b'\n' => {
                        self.state = State::Done;
                        return Ok((i, DecodeStatus::Done));
                    }
                    _ => return Err(CodecError::InvalidChunk),
                },
                State::Data => unreachable!("handled above"),
                State::Done => return Ok((i - 1, DecodeStatus::Done)),
            };
        }
        if self.state == State::Done {
            return Ok((i, DecodeStatus::Done));
        }
        Ok((i, DecodeStatus::NeedMore))
    }
}

/// Appends one chunk (`hex-size CRLF data CRLF`). Empty `data` is skipped,
/// since a zero-size chunk would terminate the body.
pub fn encode_chunk(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let mut digits = [0u8; 16];
    let mut n = data.len() as u64;
    let mut pos = digits.len();
    while n > 0 {
        pos -= 1;
        digits[pos] = b"0123456789abcdef"[(n & 0xf) as usize];
        n >>= 4;
    }
    out.reserve(digits.len() - pos + data.len() + 4);
    out.extend_from_slice(&digits[pos..]);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = b"5;name=value;quoted=\"a;b\"\r\nhello\r\n\
        1A\r\nabcdefghijklmnopqrstuvwxyz\r\n\
        0000c ; ext\r\n, SSE data!\n\r\n\
        0;last\r\nX-Trailer: 1\r\nOther: two\r\n\r\n";
    const DECODED: &[u8] = b"helloabcdefghijklmnopqrstuvwxyz, SSE data!\n";

    fn decode_all(input: &[u8]) -> Result<(Vec<u8>, usize, DecodeStatus), CodecError> {
        let mut d = ChunkedDecoder::new(1024);
        let mut out = Vec::new();
        let (n, st) = d.decode(input, &mut out)?;
        Ok((out, n, st))
    }

    #[test]
    fn decodes_multi_chunk_body_with_extensions_and_trailers() {
        let (out, n, st) = decode_all(BODY).unwrap();
        assert_eq!(out, DECODED);
        assert_eq!(n, BODY.len());
        assert_eq!(st, DecodeStatus::Done);
    }

    #[test]
    fn every_two_way_split_gives_same_output() {
        for split in 0..=BODY.len() {
            let mut d = ChunkedDecoder::new(1024);
            let mut out = Vec::new();
            let (a, st) = d.decode(&BODY[..split], &mut out).unwrap();
            assert_eq!(a, split);
            if split < BODY.len() {
                assert_eq!(st, DecodeStatus::NeedMore, "split {split}");
                assert!(!d.is_done());
            }
            let (b, st) = d.decode(&BODY[split..], &mut out).unwrap();
            assert_eq!(a + b, BODY.len());
            assert_eq!(st, DecodeStatus::Done);
            assert!(d.is_done());
            assert_eq!(out, DECODED, "split {split}");
        }
    }

    #[test]
    fn byte_at_a_time_gives_same_output() {
        let mut d = ChunkedDecoder::new(1024);
        let mut out = Vec::new();
        for (i, b) in BODY.iter().enumerate() {
            let (n, st) = d.decode(std::slice::from_ref(b), &mut out).unwrap();
            assert_eq!(n, 1);
            assert_eq!(st == DecodeStatus::Done, i == BODY.len() - 1);
        }
        assert_eq!(out, DECODED);
    }

    #[test]
    fn data_available_after_each_chunk() {
        let mut d = ChunkedDecoder::new(0);
        let mut out = Vec::new();
        let (n, st) = d.decode(b"6\r\ndata:1\r\n", &mut out).unwrap();
        assert_eq!((n, st), (11, DecodeStatus::NeedMore));
        assert_eq!(out, b"data:1");
        // Payload is delivered even before the chunk's closing CRLF.
        let (_, st) = d.decode(b"3\r\nab", &mut out).unwrap();
        assert_eq!(st, DecodeStatus::NeedMore);
        assert_eq!(out, b"data:1ab");
    }

    #[test]
    fn stops_at_end_and_leaves_pipelined_bytes() {
        let mut input = b"3\r\nabc\r\n0\r\n\r\n".to_vec();
        let body_len = input.len();
        input.extend_from_slice(b"GET / HTTP/1.1\r\n");
        let mut d = ChunkedDecoder::new(0);
        let mut out = Vec::new();
        let (n, st) = d.decode(&input, &mut out).unwrap();
        assert_eq!((n, st), (body_len, DecodeStatus::Done));
        assert_eq!(
            d.decode(b"more", &mut out).unwrap(),
            (0, DecodeStatus::Done)
        );
        assert_eq!(out, b"abc");
    }

    #[test]
    fn uppercase_hex_and_leading_zeros_accepted() {
        let (out, _, st) = decode_all(b"000A\r\n0123456789\r\n0\r\n\r\n").unwrap();
        assert_eq!(out, b"0123456789");
        assert_eq!(st, DecodeStatus::Done);
    }

    #[test]
    fn rejects_non_hex_sizes() {
        for bad in [
            &b"g\r\n"[..],
            b"\r\n",
            b"-1\r\n",
            b"+1\r\n",
            b"0x5\r\n",
            b" 5\r\n",
            b";ext\r\n",
            b"5 x\r\n",
        ] {
            assert_eq!(
                decode_all(bad).unwrap_err(),
                CodecError::InvalidChunk,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn rejects_size_overflow() {
        assert_eq!(
            decode_all(b"10000000000000000\r\n").unwrap_err(),
            CodecError::InvalidChunk
        );
        // 16 digits is the most a u64 needs; padding with zeros counts too.
        assert_eq!(
            decode_all(b"00000000000000001\r\n").unwrap_err(),
            CodecError::InvalidChunk
        );
        let (_, n, st) = decode_all(b"ffffffffffffffff\r\nab").unwrap();
        assert_eq!((n, st), (20, DecodeStatus::NeedMore));
    }

    #[test]
    fn rejects_missing_crlf_after_data() {
        assert_eq!(
            decode_all(b"3\r\nabcd\r\n").unwrap_err(),
            CodecError::InvalidChunk
        );
        assert_eq!(
            decode_all(b"3\r\nabc\rx").unwrap_err(),
            CodecError::InvalidChunk
        );
        assert_eq!(
            decode_all(b"3\r\nabc0\r\n").unwrap_err(),
            CodecError::InvalidChunk
        );
    }

    #[test]
    fn rejects_bare_lf() {
        for bad in [
            &b"3\nabc\r\n"[..],
            b"3;x\nabc\r\n",
            b"3\r\nabc\n0\r\n\r\n",
            b"0\r\nX: 1\n\r\n",
            b"0\r\n\n",
        ] {
            let e = decode_all(bad).unwrap_err();
            assert!(
                matches!(e, CodecError::BareLf | CodecError::InvalidChunk),
                "{bad:?} -> {e:?}"
            );
            assert_eq!(e.status(), 400);
        }
        assert_eq!(decode_all(b"3\nabc").unwrap_err(), CodecError::BareLf);
        assert_eq!(decode_all(b"3\r\nabc\n").unwrap_err(), CodecError::BareLf);
    }

    #[test]
    fn rejects_missing_lf_after_size_cr() {
        assert_eq!(decode_all(b"3\rabc").unwrap_err(), CodecError::InvalidChunk);
    }

    #[test]
    fn extension_limit_is_1_kib() {
        let mut ok = b"1;".to_vec();
        ok.resize(1 + MAX_EXTENSION_BYTES, b'x');
        ok.extend_from_slice(b"\r\na\r\n0\r\n\r\n");
        assert_eq!(decode_all(&ok).unwrap().0, b"a");

        let mut bad = b"1;".to_vec();
        bad.resize(2 + MAX_EXTENSION_BYTES, b'x');
        bad.extend_from_slice(b"\r\na\r\n0\r\n\r\n");
        let e = decode_all(&bad).unwrap_err();
        assert_eq!(e, CodecError::ChunkExtensionTooLong);
        assert_eq!(e.status(), 400);
    }

    #[test]
    fn control_chars_in_extension_rejected() {
        assert_eq!(
            decode_all(b"1;a\x00b\r\n").unwrap_err(),
            CodecError::InvalidChunk
        );
    }

    #[test]
    fn trailer_limit_enforced() {
        let body = b"0\r\nX-T: 12345\r\n\r\n";
        let trailer_len = b"X-T: 12345\r\n".len();
        let mut d = ChunkedDecoder::new(trailer_len);
        assert_eq!(
            d.decode(body, &mut Vec::new()).unwrap().1,
            DecodeStatus::Done
        );
        let mut d = ChunkedDecoder::new(trailer_len - 1);
        assert_eq!(
            d.decode(body, &mut Vec::new()).unwrap_err(),
            CodecError::TrailersTooLarge
        );
        let mut d = ChunkedDecoder::new(0);
        assert_eq!(
            d.decode(b"0\r\n\r\n", &mut Vec::new()).unwrap().1,
            DecodeStatus::Done
        );
    }

    #[test]
    fn trailer_obs_fold_rejected() {
        assert_eq!(
            decode_all(b"0\r\nX: 1\r\n 2\r\n\r\n").unwrap_err(),
            CodecError::ObsFold
        );
    }

    #[test]
    fn encode_chunk_roundtrip() {
        let mut enc = Vec::new();
        encode_chunk(&mut enc, b"hello");
        assert_eq!(enc, b"5\r\nhello\r\n");
        let big = vec![b'z'; 0x1234];
        encode_chunk(&mut enc, &big);
        assert!(enc.ends_with(b"\r\n"));
        assert!(enc[10..].starts_with(b"1234\r\n"));
        encode_chunk(&mut enc, b"");
        enc.extend_from_slice(LAST_CHUNK);
        let (out, n, st) = decode_all(&enc).unwrap();
        assert_eq!((n, st), (enc.len(), DecodeStatus::Done));
        let mut expected = b"hello".to_vec();
        expected.extend_from_slice(&big);
        assert_eq!(out, expected);
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    #[test]
    fn randomized_mutations_never_panic_and_split_invariant() {
        const INSERTS: &[&[u8]] = &[b"\r", b"\n", b" ", b"\t", b";", b"0", b"f", b"\r\n"];
        let mut rng = Rng(0x1234_5678_9abc_def1);
        let mut done = 0;
        for _ in 0..50_000 {
            let mut buf = BODY.to_vec();
            for _ in 0..=rng.below(3) {
                match rng.below(4) {
                    0 if !buf.is_empty() => {
                        let i = rng.below(buf.len());
                        buf[i] ^= 1 << rng.below(8);
                    }
                    1 => {
                        let i = rng.below(buf.len() + 1);
                        let ins = INSERTS[rng.below(INSERTS.len())];
                        buf.splice(i..i, ins.iter().copied());
                    }
                    2 => {
                        let n = rng.below(buf.len() + 1);
                        buf.truncate(n);
                    }
                    _ if !buf.is_empty() => {
                        let i = rng.below(buf.len());
                        buf.remove(i);
                    }
                    _ => {}
                }
            }
            // One-shot result is the reference; a random split must agree.
            let mut d = ChunkedDecoder::new(64);
            let mut whole = Vec::new();
            let one = d.decode(&buf, &mut whole);

            let split = rng.below(buf.len() + 1);
            let mut d2 = ChunkedDecoder::new(64);
            let mut parts = Vec::new();
            let two = d2.decode(&buf[..split], &mut parts).and_then(|(a, st)| {
                if st == DecodeStatus::Done {
                    return Ok((a, st));
                }
                let (b, st) = d2.decode(&buf[split..], &mut parts)?;
                Ok((a + b, st))
            });
            match (&one, &two) {
                (Ok(x), Ok(y)) => {
                    assert_eq!(x, y);
                    assert!(x.0 <= buf.len());
                    assert_eq!(whole, parts);
                    if x.1 == DecodeStatus::Done {
                        done += 1;
                    } else {
                        assert_eq!(x.0, buf.len());
                    }
                }
                (Err(a), Err(b)) => assert_eq!(a, b),
                _ => panic!("split {split} changed outcome: {one:?} vs {two:?} for {buf:?}"),
            }
        }
        assert!(done > 1_000, "only {done} complete decodes");
    }
}
