//! Every path of every finding with its bytes, for JSON: written to an
//! anonymous temporary file as the walk finds them (findings interleave in
//! path order), regrouped by finding in bounded chunks, and streamed back
//! into the JSON document one finding at a time. Memory holds one chunk,
//! never the paths.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use serde::ser::{Error as _, SerializeSeq};
use serde::{Serialize, Serializer};

/// Bytes of records regrouped at a time.
const CHUNK: usize = 4 << 20;

/// Paths as the walk finds them.
pub struct Spill {
    out: BufWriter<File>,
    /// Per finding: bytes of its records.
    sizes: Vec<u64>,
    error: Option<io::Error>,
}

fn record(out: &mut impl Write, id: u32, bytes: u64, path: &str) -> io::Result<()> {
    out.write_all(&id.to_le_bytes())?;
    out.write_all(&bytes.to_le_bytes())?;
    out.write_all(&(path.len() as u32).to_le_bytes())?;
    out.write_all(path.as_bytes())
}

const HEAD: usize = 16;

impl Spill {
    pub fn new() -> io::Result<Spill> {
        Ok(Spill {
            out: BufWriter::with_capacity(256 << 10, tempfile::tempfile()?),
            sizes: Vec::new(),
            error: None,
        })
    }

    /// Adds a path of finding `id`.
    pub fn add(&mut self, id: u32, bytes: u64, path: &str) {
        if self.error.is_some() {
            return;
        }
        let i = id as usize;
        if self.sizes.len() <= i {
            self.sizes.resize(i + 1, 0);
        }
        self.sizes[i] += (HEAD + path.len()) as u64;
        if let Err(e) = record(&mut self.out, id, bytes, path) {
            self.error = Some(e);
        }
    }

    /// The paths regrouped by finding: each finding's range of one file.
    pub fn finish(self) -> io::Result<Vec<AllPaths>> {
        self.finish_in(CHUNK)
    }

    fn finish_in(self, chunk_bytes: usize) -> io::Result<Vec<AllPaths>> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.flush()?;
        let total: u64 = self.sizes.iter().sum();
        let sorted = Arc::new(tempfile::tempfile()?);
        let mut starts = Vec::with_capacity(self.sizes.len());
        let mut at = 0u64;
        for &s in &self.sizes {
            starts.push(at);
            at += s;
        }
        let mut cursor = starts.clone();
        let mut input = BufReader::with_capacity(
            256 << 10,
            At {
                file: &file,
                pos: 0,
                end: total,
            },
        );
        let mut chunk: Vec<(u32, Vec<u8>)> = Vec::new();
        let mut held = 0usize;
        let mut head = [0u8; HEAD];
        loop {
            let more = read_full(&mut input, &mut head)?;
            if more {
                let id = u32::from_le_bytes(head[..4].try_into().unwrap_or_default());
                let len = u32::from_le_bytes(head[12..].try_into().unwrap_or_default()) as usize;
                let mut rec = head.to_vec();
                rec.resize(HEAD + len, 0);
                input.read_exact(&mut rec[HEAD..])?;
                held += rec.len();
                chunk.push((id, rec));
            }
            if held >= chunk_bytes || (!more && !chunk.is_empty()) {
                chunk.sort_by_key(|(id, _)| *id);
                let mut i = 0;
                while i < chunk.len() {
                    let id = chunk[i].0;
                    let mut run = Vec::new();
                    while i < chunk.len() && chunk[i].0 == id {
                        run.extend_from_slice(&chunk[i].1);
                        i += 1;
                    }
                    sorted.write_all_at(&run, cursor[id as usize])?;
                    cursor[id as usize] += run.len() as u64;
                }
                chunk.clear();
                held = 0;
            }
            if !more {
                break;
            }
        }
        Ok(starts
            .iter()
            .zip(&self.sizes)
            .map(|(&start, &size)| AllPaths {
                file: sorted.clone(),
                start,
                end: start + size,
            })
            .collect())
    }
}

/// Fills `buf`, or reads nothing at the end; an end inside it is an error.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 if n == 0 => return Ok(false),
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            k => n += k,
        }
    }
    Ok(true)
}

/// A file read from `pos` to `end` without moving a shared offset.
struct At<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf
            .len()
            .min((self.end - self.pos).min(usize::MAX as u64) as usize);
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// One finding's every path and its bytes, serialized as a JSON array of
/// `{"path", "bytes"}` read back from the regrouped file.
#[derive(Debug, Clone)]
pub struct AllPaths {
    file: Arc<File>,
    start: u64,
    end: u64,
}

#[derive(Serialize)]
struct Item<'a> {
    path: &'a str,
    bytes: u64,
}

impl AllPaths {
    /// Each path and its bytes, in path order.
    pub fn each(&self, mut f: impl FnMut(&str, u64)) -> io::Result<()> {
        let mut input = BufReader::new(At {
            file: &self.file,
            pos: self.start,
            end: self.end,
        });
        let mut head = [0u8; HEAD];
        let mut path = Vec::new();
        while read_full(&mut input, &mut head)? {
            let bytes = u64::from_le_bytes(head[4..12].try_into().unwrap_or_default());
            let len = u32::from_le_bytes(head[12..].try_into().unwrap_or_default()) as usize;
            path.resize(len, 0);
            input.read_exact(&mut path)?;
            f(&String::from_utf8_lossy(&path), bytes);
        }
        Ok(())
    }
}

impl Serialize for AllPaths {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        let mut failed = None;
        self.each(|path, bytes| {
            if failed.is_none() {
                if let Err(e) = seq.serialize_element(&Item { path, bytes }) {
                    failed = Some(e);
                }
            }
        })
        .map_err(|e| S::Error::custom(format!("advise paths: {e}")))?;
        if let Some(e) = failed {
            return Err(e);
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(p: &AllPaths) -> Vec<(String, u64)> {
        let mut out = Vec::new();
        p.each(|path, b| out.push((path.to_owned(), b))).unwrap();
        out
    }

    #[test]
    fn interleaved_paths_come_back_by_finding_in_their_order() {
        let mut s = Spill::new().unwrap();
        for i in 0..10_000u32 {
            s.add(i % 3, u64::from(i), &format!("/p{i:05}"));
        }
        s.add(5, 7, "/last");
        // Regrouped 16 kB at a time: many chunks, each finding's runs in order.
        let groups = s.finish_in(16 << 10).unwrap();
        assert_eq!(groups.len(), 6);
        let zero = all(&groups[0]);
        assert_eq!(zero.len(), 3334);
        assert_eq!(zero[1], ("/p00003".to_owned(), 3));
        assert!(all(&groups[3]).is_empty());
        assert_eq!(all(&groups[5]), [("/last".to_owned(), 7)]);
        let json = serde_json::to_string(&groups[5]).unwrap();
        assert_eq!(json, r#"[{"path":"/last","bytes":7}]"#);
    }
}
