//! A small RIFF/WAVE parser and checker: format, duration and level of the audio an
//! engine produced, tolerant of what real engines write.
//!
//! Handled: integer PCM (8, 16, 24, 32 bits) and IEEE float (32, 64 bits), plain or
//! `WAVE_FORMAT_EXTENSIBLE`; chunks in any order with unknown ones skipped; odd-sized
//! chunks with or without their pad byte; and streaming headers (espeak-ng's
//! `--stdout`) whose RIFF and data sizes are 0, `0x7fffffff`-ish or simply larger
//! than the file: sizes are always computed from the bytes actually present. Any
//! input, however broken, gives a [`WavError`] and never a panic.

use std::ops::Range;
use std::time::Duration;

/// Why bytes are not usable WAV audio.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WavError {
    /// The first four bytes are not `RIFF`.
    #[error("not a RIFF file (it starts with {found:?})")]
    NotRiff {
        /// The first bytes, lossily decoded.
        found: String,
    },
    /// A RIFF file whose form type is not `WAVE`.
    #[error("a RIFF file but not WAVE")]
    NotWave,
    /// No `fmt ` chunk.
    #[error("no fmt chunk")]
    MissingFmt,
    /// No `data` chunk.
    #[error("no data chunk")]
    MissingData,
    /// A `fmt ` chunk that makes no sense.
    #[error("bad fmt chunk: {reason}")]
    BadFormat {
        /// What is wrong.
        reason: String,
    },
    /// A valid but unsupported encoding (compressed formats, RIFX, RF64).
    #[error("unsupported WAV: {what}")]
    Unsupported {
        /// What is unsupported.
        what: String,
    },
    /// The data chunk holds no complete sample frame.
    #[error("the WAV holds no audio")]
    Empty,
    /// Every sample is zero.
    #[error("the WAV is silent")]
    Silent,
    /// Too large to write with 32-bit RIFF sizes.
    #[error("the audio is too large for a RIFF file")]
    TooLarge,
}

/// How samples are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    /// Integer PCM: unsigned for 8 bits, signed little-endian otherwise.
    Pcm,
    /// IEEE floating point, little-endian.
    Float,
}

/// What the header and the bytes say about the audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavInfo {
    /// The sample encoding.
    pub format: SampleFormat,
    /// Frames per second.
    pub sample_rate: u32,
    /// Channels per frame.
    pub channels: u16,
    /// Bits each sample occupies (the container size).
    pub bits_per_sample: u16,
    /// Meaningful bits per sample (less than the container for some extensible files).
    pub valid_bits: u16,
    /// Bytes per frame.
    pub block_align: u16,
    /// Complete frames present in the data chunk.
    pub frames: u64,
    /// True when the declared sizes did not match the bytes (a streaming header).
    pub sizes_repaired: bool,
}

impl WavInfo {
    /// Playing time of the complete frames.
    pub fn duration(&self) -> Duration {
        if self.sample_rate == 0 {
            return Duration::ZERO;
        }
        let nanos = u128::from(self.frames) * 1_000_000_000 / u128::from(self.sample_rate);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

/// Peak and RMS level over every sample, as fractions of full scale (1.0 = 0 dBFS;
/// float audio may exceed 1.0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// The largest absolute sample.
    pub peak: f64,
    /// The root mean square of all samples.
    pub rms: f64,
}

/// Parsed WAV audio: the bytes as produced plus where the format and samples are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wav {
    bytes: Vec<u8>,
    info: WavInfo,
    fmt: Range<usize>,
    data: Range<usize>,
}

const SUBFORMAT_SUFFIX: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];
const FORMAT_PCM: u16 = 1;
const FORMAT_FLOAT: u16 = 3;
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;
const MAX_SAMPLE_RATE: u32 = 1_536_000;

impl Wav {
    /// Parses `bytes`, keeping them as they are.
    pub fn parse(bytes: Vec<u8>) -> Result<Wav, WavError> {
        let layout = scan(&bytes)?;
        Ok(Wav {
            bytes,
            info: layout.info,
            fmt: layout.fmt,
            data: layout.data,
        })
    }

    /// Format, frame count and duration.
    pub fn info(&self) -> &WavInfo {
        &self.info
    }

    /// Playing time.
    pub fn duration(&self) -> Duration {
        self.info.duration()
    }

    /// The bytes as the engine produced them.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes as the engine produced them.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The sample bytes: complete frames only.
    pub fn samples(&self) -> &[u8] {
        self.bytes.get(self.data.clone()).unwrap_or_default()
    }

    /// Peak and RMS over every sample (zero for no samples).
    pub fn level(&self) -> Level {
        level(self.samples(), self.info.format, self.info.bits_per_sample)
    }

    /// Checks that there is audio and that it is not all zeros.
    pub fn ensure_audible(&self) -> Result<Level, WavError> {
        if self.info.frames == 0 {
            return Err(WavError::Empty);
        }
        let level = self.level();
        if level.peak <= 0.0 {
            return Err(WavError::Silent);
        }
        Ok(level)
    }

    /// A clean file: `RIFF`, the original `fmt ` chunk and one `data` chunk with
    /// true sizes. Players that choke on streaming headers accept it.
    pub fn to_canonical(&self) -> Result<Vec<u8>, WavError> {
        let fmt = self.bytes.get(self.fmt.clone()).unwrap_or_default();
        let data = self.samples();
        let padded = |len: usize| len + (len & 1);
        let riff_len = 4usize
            .checked_add(8 + padded(fmt.len()))
            .and_then(|n| n.checked_add(8 + padded(data.len())))
            .ok_or(WavError::TooLarge)?;
        let riff_len = u32::try_from(riff_len).map_err(|_| WavError::TooLarge)?;
        let fmt_len = u32::try_from(fmt.len()).map_err(|_| WavError::TooLarge)?;
        let data_len = u32::try_from(data.len()).map_err(|_| WavError::TooLarge)?;
        let mut out = Vec::with_capacity(riff_len as usize + 8);
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&riff_len.to_le_bytes());
        out.extend_from_slice(b"WAVE");
        out.extend_from_slice(b"fmt ");
        out.extend_from_slice(&fmt_len.to_le_bytes());
        out.extend_from_slice(fmt);
        if fmt.len() % 2 == 1 {
            out.push(0);
        }
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data_len.to_le_bytes());
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(0);
        }
        Ok(out)
    }
}

struct Layout {
    info: WavInfo,
    fmt: Range<usize>,
    data: Range<usize>,
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Four printable ASCII bytes: what a chunk id looks like.
fn looks_like_chunk_id(bytes: &[u8], at: usize) -> bool {
    at.checked_add(4)
        .and_then(|end| bytes.get(at..end))
        .is_some_and(|id| id.iter().all(|b| (0x20..=0x7e).contains(b)))
}

fn scan(bytes: &[u8]) -> Result<Layout, WavError> {
    let magic = bytes.get(0..4).unwrap_or(bytes);
    match magic {
        b"RIFF" => {}
        b"RIFX" => {
            return Err(WavError::Unsupported {
                what: "big-endian RIFX".to_owned(),
            });
        }
        b"RF64" => {
            return Err(WavError::Unsupported {
                what: "RF64 (64-bit sizes)".to_owned(),
            });
        }
        other => {
            return Err(WavError::NotRiff {
                found: String::from_utf8_lossy(other).into_owned(),
            });
        }
    }
    if bytes.get(8..12) != Some(b"WAVE".as_slice()) {
        return Err(WavError::NotWave);
    }
    let declared_riff = u32_at(bytes, 4).unwrap_or(0) as usize;
    let mut repaired = declared_riff.checked_add(8) != Some(bytes.len());

    let mut fmt: Option<Range<usize>> = None;
    let mut data: Option<Range<usize>> = None;
    let mut pos = 12usize;
    while let (Some(id), Some(size)) = (bytes.get(pos..pos + 4), u32_at(bytes, pos + 4)) {
        let body = pos + 8;
        let remaining = bytes.len() - body;
        let size = size as usize;
        match id {
            b"data" if data.is_none() => {
                if size == 0 || size > remaining {
                    // A streaming header: everything that follows is audio.
                    repaired |= size != remaining;
                    data = Some(body..bytes.len());
                    break;
                }
                data = Some(body..body + size);
            }
            b"fmt " if fmt.is_none() => {
                if size > remaining {
                    if remaining < 16 {
                        return Err(WavError::BadFormat {
                            reason: format!(
                                "the chunk declares {size} bytes but only {remaining} remain"
                            ),
                        });
                    }
                    repaired = true;
                    fmt = Some(body..bytes.len());
                    break;
                }
                fmt = Some(body..body + size);
            }
            _ => {
                if size > remaining {
                    // A truncated trailing chunk we do not need.
                    repaired = true;
                    break;
                }
            }
        }
        let mut next = body + size;
        if size % 2 == 1 {
            // The pad byte is required, but some writers forget it.
            let padded = next + 1;
            if looks_like_chunk_id(bytes, padded) || !looks_like_chunk_id(bytes, next) {
                next = padded;
            }
        }
        pos = next;
    }

    let fmt = fmt.ok_or(WavError::MissingFmt)?;
    let data = data.ok_or(WavError::MissingData)?;
    let info = parse_fmt(bytes.get(fmt.clone()).unwrap_or_default())?;
    let block = usize::from(info.block_align);
    let frames = (data.len() / block) as u64;
    let data = data.start..data.start + (frames as usize) * block;
    Ok(Layout {
        info: WavInfo {
            frames,
            sizes_repaired: repaired,
            ..info
        },
        fmt,
        data,
    })
}

fn bad(reason: impl Into<String>) -> WavError {
    WavError::BadFormat {
        reason: reason.into(),
    }
}

fn parse_fmt(chunk: &[u8]) -> Result<WavInfo, WavError> {
    let (Some(tag), Some(channels), Some(sample_rate), Some(bits)) = (
        u16_at(chunk, 0),
        u16_at(chunk, 2),
        u32_at(chunk, 4),
        u16_at(chunk, 14),
    ) else {
        return Err(bad(format!("{} bytes, at least 16 expected", chunk.len())));
    };
    let declared_align = u16_at(chunk, 12).unwrap_or(0);
    let (code, valid_bits) = if tag == FORMAT_EXTENSIBLE {
        let (Some(extra), Some(valid), Some(sub)) =
            (u16_at(chunk, 16), u16_at(chunk, 18), u16_at(chunk, 24))
        else {
            return Err(bad("extensible format without its 22-byte extension"));
        };
        if extra < 22 || chunk.get(26..40) != Some(SUBFORMAT_SUFFIX.as_slice()) {
            return Err(WavError::Unsupported {
                what: "an extensible format with a non-standard sub-format".to_owned(),
            });
        }
        (sub, if valid == 0 { bits } else { valid })
    } else {
        (tag, bits)
    };
    let format = match code {
        FORMAT_PCM => SampleFormat::Pcm,
        FORMAT_FLOAT => SampleFormat::Float,
        other => {
            return Err(WavError::Unsupported {
                what: format!("format code {other:#06x} (only PCM and IEEE float are read)"),
            });
        }
    };
    let bits_ok = match format {
        SampleFormat::Pcm => matches!(bits, 8 | 16 | 24 | 32),
        SampleFormat::Float => matches!(bits, 32 | 64),
    };
    if !bits_ok {
        return Err(WavError::Unsupported {
            what: format!("{bits}-bit {format:?} samples"),
        });
    }
    if valid_bits > bits {
        return Err(bad(format!(
            "{valid_bits} valid bits in a {bits}-bit container"
        )));
    }
    if channels == 0 {
        return Err(bad("zero channels"));
    }
    if sample_rate == 0 || sample_rate > MAX_SAMPLE_RATE {
        return Err(bad(format!("sample rate {sample_rate} Hz")));
    }
    let block_align = u32::from(channels) * u32::from(bits / 8);
    let block_align = u16::try_from(block_align).map_err(|_| bad("frames too large"))?;
    if declared_align != 0 && declared_align != block_align {
        tracing::debug!(declared_align, block_align, "WAV block align corrected");
    }
    Ok(WavInfo {
        format,
        sample_rate,
        channels,
        bits_per_sample: bits,
        valid_bits,
        block_align,
        frames: 0,
        sizes_repaired: false,
    })
}

fn level(samples: &[u8], format: SampleFormat, bits: u16) -> Level {
    let width = usize::from(bits / 8);
    if width == 0 {
        return Level {
            peak: 0.0,
            rms: 0.0,
        };
    }
    let mut peak = 0f64;
    let mut sum_squares = 0f64;
    let mut count = 0u64;
    for sample in samples.chunks_exact(width) {
        let value = decode(sample, format);
        let magnitude = if value.is_finite() { value.abs() } else { 0.0 };
        peak = peak.max(magnitude);
        sum_squares += magnitude * magnitude;
        count += 1;
    }
    let rms = if count == 0 {
        0.0
    } else {
        (sum_squares / count as f64).sqrt()
    };
    Level { peak, rms }
}

/// One sample as a fraction of full scale.
fn decode(sample: &[u8], format: SampleFormat) -> f64 {
    match (format, sample) {
        (SampleFormat::Pcm, [b]) => (f64::from(*b) - 128.0) / 128.0,
        (SampleFormat::Pcm, [a, b]) => f64::from(i16::from_le_bytes([*a, *b])) / 32_768.0,
        (SampleFormat::Pcm, [a, b, c]) => {
            f64::from(i32::from_le_bytes([0, *a, *b, *c]) >> 8) / 8_388_608.0
        }
        (SampleFormat::Pcm, [a, b, c, d]) => {
            f64::from(i32::from_le_bytes([*a, *b, *c, *d])) / 2_147_483_648.0
        }
        (SampleFormat::Float, [a, b, c, d]) => f64::from(f32::from_le_bytes([*a, *b, *c, *d])),
        (SampleFormat::Float, [a, b, c, d, e, f, g, h]) => {
            f64::from_le_bytes([*a, *b, *c, *d, *e, *f, *g, *h])
        }
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fmt_pcm(channels: u16, rate: u32, bits: u16) -> Vec<u8> {
        let align = channels * bits / 8;
        let mut f = Vec::new();
        f.extend_from_slice(&FORMAT_PCM.to_le_bytes());
        f.extend_from_slice(&channels.to_le_bytes());
        f.extend_from_slice(&rate.to_le_bytes());
        f.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
        f.extend_from_slice(&align.to_le_bytes());
        f.extend_from_slice(&bits.to_le_bytes());
        f
    }

    fn chunk(id: &[u8; 4], body: &[u8], declared: Option<u32>) -> Vec<u8> {
        let mut c = id.to_vec();
        c.extend_from_slice(&declared.unwrap_or(body.len() as u32).to_le_bytes());
        c.extend_from_slice(body);
        c
    }

    fn riff(chunks: &[Vec<u8>], declared: Option<u32>) -> Vec<u8> {
        let body: Vec<u8> = chunks.concat();
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&declared.unwrap_or(body.len() as u32 + 4).to_le_bytes());
        out.extend_from_slice(b"WAVE");
        out.extend_from_slice(&body);
        out
    }

    fn pcm16(samples: &[i16]) -> Vec<u8> {
        samples.iter().flat_map(|s| s.to_le_bytes()).collect()
    }

    #[test]
    fn plain_pcm16_mono() {
        let data = pcm16(&[0, 16_384, -32_768, 0]);
        let wav = Wav::parse(riff(
            &[
                chunk(b"fmt ", &fmt_pcm(1, 22_050, 16), None),
                chunk(b"data", &data, None),
            ],
            None,
        ))
        .unwrap();
        let info = wav.info();
        assert_eq!(info.format, SampleFormat::Pcm);
        assert_eq!(
            (info.sample_rate, info.channels, info.bits_per_sample),
            (22_050, 1, 16)
        );
        assert_eq!(info.frames, 4);
        assert!(!info.sizes_repaired);
        let level = wav.level();
        assert_eq!(level.peak, 1.0);
        assert!((level.rms - (0.25f64 + 1.0).sqrt() / 2.0).abs() < 1e-9);
        assert_eq!(wav.ensure_audible().unwrap(), level);
    }

    #[test]
    fn duration_is_frames_over_rate() {
        let data = pcm16(&vec![1; 44_100]); // 22050 stereo frames at 44.1 kHz
        let wav = Wav::parse(riff(
            &[
                chunk(b"fmt ", &fmt_pcm(2, 44_100, 16), None),
                chunk(b"data", &data, None),
            ],
            None,
        ))
        .unwrap();
        assert_eq!(wav.info().frames, 22_050);
        assert_eq!(wav.duration(), Duration::from_millis(500));
    }

    #[test]
    fn streaming_headers_are_sized_from_the_bytes() {
        // espeak-ng --stdout: RIFF 0x7ffff024, data 0x7ffff000.
        for (riff_size, data_size) in [
            (Some(0x7fff_f024), Some(0x7fff_f000)),
            (Some(0), Some(0)),
            (Some(0xffff_ffff), Some(0xffff_ffff)),
            (Some(0x7fff_ffff), Some(0x7fff_ffff)),
        ] {
            let data = pcm16(&[100, -100, 200]);
            let wav = Wav::parse(riff(
                &[
                    chunk(b"fmt ", &fmt_pcm(1, 22_050, 16), None),
                    chunk(b"data", &data, data_size),
                ],
                riff_size,
            ))
            .unwrap();
            assert_eq!(wav.info().frames, 3, "{riff_size:?} {data_size:?}");
            assert!(wav.info().sizes_repaired);
            let clean = Wav::parse(wav.to_canonical().unwrap()).unwrap();
            assert!(!clean.info().sizes_repaired);
            assert_eq!(clean.samples(), wav.samples());
        }
    }

    #[test]
    fn partial_trailing_frame_is_ignored() {
        let mut data = pcm16(&[5, 6]);
        data.push(7);
        let wav = Wav::parse(riff(
            &[
                chunk(b"fmt ", &fmt_pcm(1, 8_000, 16), None),
                chunk(b"data", &data, Some(0)),
            ],
            Some(0),
        ))
        .unwrap();
        assert_eq!(wav.info().frames, 2);
        assert_eq!(wav.samples().len(), 4);
    }

    #[test]
    fn odd_layouts() {
        let fmt = chunk(b"fmt ", &fmt_pcm(1, 16_000, 16), None);
        let data = chunk(b"data", &pcm16(&[1, 2, 3]), None);
        let list = chunk(b"LIST", b"INFOISFT\x05\x00\x00\x00abc", None);
        // data before fmt, unknown chunks around, an odd chunk with its pad byte...
        let mut odd = chunk(b"junk", b"abc", None);
        odd.push(0);
        let wav = Wav::parse(riff(&[odd, data.clone(), list.clone(), fmt.clone()], None)).unwrap();
        assert_eq!(wav.info().frames, 3);
        // ... and without it.
        let unpadded = chunk(b"junk", b"abc", None);
        let wav = Wav::parse(riff(&[unpadded, fmt.clone(), data.clone()], None)).unwrap();
        assert_eq!(wav.info().frames, 3);
        // A truncated trailing chunk after the data.
        let mut bytes = riff(&[fmt, data], None);
        bytes.extend_from_slice(b"LIST\xff\xff\x00\x00ab");
        assert_eq!(Wav::parse(bytes).unwrap().info().frames, 3);
    }

    #[test]
    fn extensible_and_other_depths() {
        // WAVE_FORMAT_EXTENSIBLE, 24-bit PCM, stereo.
        let mut f = Vec::new();
        f.extend_from_slice(&FORMAT_EXTENSIBLE.to_le_bytes());
        f.extend_from_slice(&2u16.to_le_bytes());
        f.extend_from_slice(&48_000u32.to_le_bytes());
        f.extend_from_slice(&(48_000u32 * 6).to_le_bytes());
        f.extend_from_slice(&6u16.to_le_bytes());
        f.extend_from_slice(&24u16.to_le_bytes());
        f.extend_from_slice(&22u16.to_le_bytes());
        f.extend_from_slice(&24u16.to_le_bytes());
        f.extend_from_slice(&3u32.to_le_bytes());
        f.extend_from_slice(&FORMAT_PCM.to_le_bytes());
        f.extend_from_slice(&SUBFORMAT_SUFFIX);
        let data = [0x00, 0x00, 0x80, 0xff, 0xff, 0x7f]; // -1.0, ~+1.0
        let wav = Wav::parse(riff(
            &[chunk(b"fmt ", &f, None), chunk(b"data", &data, None)],
            None,
        ))
        .unwrap();
        assert_eq!(wav.info().bits_per_sample, 24);
        assert_eq!(wav.info().frames, 1);
        assert_eq!(wav.level().peak, 1.0);

        // 32-bit float with a fact chunk.
        let mut f = fmt_pcm(1, 22_050, 32);
        f[0..2].copy_from_slice(&FORMAT_FLOAT.to_le_bytes());
        let data: Vec<u8> = [0.5f32, -0.25]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let wav = Wav::parse(riff(
            &[
                chunk(b"fmt ", &f, None),
                chunk(b"fact", &2u32.to_le_bytes(), None),
                chunk(b"data", &data, None),
            ],
            None,
        ))
        .unwrap();
        assert_eq!(wav.info().format, SampleFormat::Float);
        assert_eq!(wav.level().peak, 0.5);

        // 8-bit unsigned: 128 is silence.
        let wav = Wav::parse(riff(
            &[
                chunk(b"fmt ", &fmt_pcm(1, 8_000, 8), None),
                chunk(b"data", &[128, 128], None),
            ],
            None,
        ))
        .unwrap();
        assert_eq!(wav.ensure_audible(), Err(WavError::Silent));
    }

    #[test]
    fn refusals() {
        let fmt = chunk(b"fmt ", &fmt_pcm(1, 8_000, 16), None);
        let data = chunk(b"data", &pcm16(&[1]), None);
        type Check = fn(&WavError) -> bool;
        let cases: Vec<(Vec<u8>, Check)> = vec![
            (Vec::new(), |e| matches!(e, WavError::NotRiff { .. })),
            (b"ID3\x04garbage".to_vec(), |e| {
                matches!(e, WavError::NotRiff { .. })
            }),
            (b"RIFF\0\0\0\0AVI ".to_vec(), |e| *e == WavError::NotWave),
            (b"RIFX\0\0\0\0WAVE".to_vec(), |e| {
                matches!(e, WavError::Unsupported { .. })
            }),
            (riff(std::slice::from_ref(&data), None), |e| {
                *e == WavError::MissingFmt
            }),
            (riff(std::slice::from_ref(&fmt), None), |e| {
                *e == WavError::MissingData
            }),
            (
                riff(
                    &[chunk(b"fmt ", &fmt_pcm(1, 8_000, 12), None), data.clone()],
                    None,
                ),
                |e| matches!(e, WavError::Unsupported { .. }),
            ),
            (
                riff(
                    &[chunk(b"fmt ", &fmt_pcm(0, 8_000, 16), None), data.clone()],
                    None,
                ),
                |e| matches!(e, WavError::BadFormat { .. }),
            ),
            (
                riff(
                    &[chunk(b"fmt ", &fmt_pcm(1, 0, 16), None), data.clone()],
                    None,
                ),
                |e| matches!(e, WavError::BadFormat { .. }),
            ),
            (
                riff(&[chunk(b"fmt ", &[1, 0, 1, 0], None), data.clone()], None),
                |e| matches!(e, WavError::BadFormat { .. }),
            ),
        ];
        for (i, (bytes, expected)) in cases.into_iter().enumerate() {
            let err = Wav::parse(bytes).unwrap_err();
            assert!(expected(&err), "case {i}: {err:?}");
        }
        let mut mp3ish = fmt_pcm(1, 8_000, 16);
        mp3ish[0..2].copy_from_slice(&0x55u16.to_le_bytes());
        let err = Wav::parse(riff(&[chunk(b"fmt ", &mp3ish, None), data], None)).unwrap_err();
        assert!(matches!(err, WavError::Unsupported { .. }));
        let empty = Wav::parse(riff(&[fmt, chunk(b"data", &[], None)], None)).unwrap();
        assert_eq!(empty.ensure_audible(), Err(WavError::Empty));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(wav) = Wav::parse(bytes) {
                let _ = wav.level();
                let _ = wav.duration();
                let _ = wav.to_canonical();
            }
        }

        #[test]
        fn arbitrary_chunks_after_a_header_never_panic(
            riff_size in any::<u32>(),
            chunks in proptest::collection::vec(
                (prop_oneof![Just(*b"fmt "), Just(*b"data"), Just(*b"LIST"), any::<[u8; 4]>()],
                 any::<u32>(),
                 proptest::collection::vec(any::<u8>(), 0..64)),
                0..6),
        ) {
            let mut bytes = b"RIFF".to_vec();
            bytes.extend_from_slice(&riff_size.to_le_bytes());
            bytes.extend_from_slice(b"WAVE");
            for (id, size, body) in chunks {
                bytes.extend_from_slice(&id);
                bytes.extend_from_slice(&size.to_le_bytes());
                bytes.extend_from_slice(&body);
            }
            if let Ok(wav) = Wav::parse(bytes) {
                let _ = wav.ensure_audible();
                let canonical = wav.to_canonical().unwrap();
                let again = Wav::parse(canonical).unwrap();
                prop_assert_eq!(again.samples(), wav.samples());
            }
        }

        #[test]
        fn valid_pcm_roundtrips(
            samples in proptest::collection::vec(any::<i16>(), 1..256),
            rate in 1u32..200_000,
        ) {
            let data = pcm16(&samples);
            let wav = Wav::parse(riff(
                &[chunk(b"fmt ", &fmt_pcm(1, rate, 16), None), chunk(b"data", &data, None)],
                None,
            )).unwrap();
            prop_assert_eq!(wav.info().frames, samples.len() as u64);
            prop_assert_eq!(wav.samples(), data.as_slice());
        }
    }
}
