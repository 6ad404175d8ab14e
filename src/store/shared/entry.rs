//! A shared entry: what it is called, what it carries besides the index
//! (the summary the local tier keeps, as annotations), its MAC, and the one
//! way an index from elsewhere comes in — streamed into a temporary beside
//! the local cache, hashed as it comes, then checked in full (length,
//! checksum, digest, MAC, every block decoded, the footer's summary equal
//! to the descriptor asking) before any figure is taken from it.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::{Digest as _, Sha256};
use tempfile::{NamedTempFile, TempPath};
use xxhash_rust::xxh3::Xxh3;

use super::super::tier::{IndexCheck, Kept};
use crate::image::{Algorithm, Compression, Digest, LayerDesc};
use crate::layer::{IndexReader, LayerSummary, FORMAT_VERSION};

/// The largest index a shared entry may hold (declared or received): the
/// captured package databases' budget (160 MiB) and the entries of tens of
/// millions of files. Anything larger is refused unread.
pub const INDEX_LIMIT: u64 = 256 << 20;

/// An annotation key of strata's.
const PREFIX: &str = "vnd.strata.";

/// The OCI `artifactType` of an entry of this index format.
pub fn artifact_type() -> String {
    format!("application/vnd.strata.layer-index.v{FORMAT_VERSION}")
}

/// The media type of the entry's one blob: the index file as strata writes
/// it (zstd-compressed blocks and footer, not one zstd stream).
pub fn index_media_type() -> String {
    format!("application/vnd.strata.layer-index.file.v{FORMAT_VERSION}")
}

/// The name of a layer's entry: `sha256-<hex>.v<FORMAT>` (a registry tag,
/// a file stem). Tags are at most 128 characters, so sha512 layers have
/// none and are kept locally only.
pub fn tag(digest: &Digest) -> Option<String> {
    (digest.algorithm() == Algorithm::Sha256)
        .then(|| format!("sha256-{}.v{FORMAT_VERSION}", digest.hex()))
}

/// `STRATA_SHARED_CACHE_KEY`: the secret entries are signed with.
#[derive(Clone)]
pub struct Key(Vec<u8>);

impl Key {
    pub fn new(secret: Vec<u8>) -> Key {
        Key(secret)
    }

    /// The MAC of an entry, started: a domain, the layer's digest and its
    /// kept record; the index bytes follow.
    fn start(&self, kept: &Kept) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(b"strata shared layer index\0");
        mac.update(kept.summary.digest.as_str().as_bytes());
        mac.update(b"\0");
        mac.update(&kept.encode());
        mac
    }

    /// The MAC of `kept` and the index `r` yields, as the annotation writes it.
    pub fn sign(&self, kept: &Kept, r: impl io::Read) -> io::Result<String> {
        let mut mac = self.start(kept);
        each_chunk(r, |bytes| mac.update(bytes))?;
        Ok(hex::encode(mac.finalize().into_bytes()))
    }
}

/// Calls `f` with each chunk `r` yields.
fn each_chunk(mut r: impl io::Read, mut f: impl FnMut(&[u8])) -> io::Result<()> {
    let mut buf = [0u8; 64 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => f(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// What a push needs of a local index, in one pass: its sha256 (the blob's
/// digest, hex) and its MAC when a key is set — or None when the file is no
/// longer the index `kept` records.
pub fn outgoing(
    kept: &Kept,
    r: impl io::Read,
    key: Option<&Key>,
) -> io::Result<Option<(String, Option<String>)>> {
    let mut xxh3 = Xxh3::new();
    let mut sha256 = Sha256::new();
    let mut mac = key.map(|k| k.start(kept));
    let mut len = 0u64;
    each_chunk(r, |bytes| {
        len += bytes.len() as u64;
        xxh3.update(bytes);
        sha256.update(bytes);
        if let Some(m) = &mut mac {
            m.update(bytes);
        }
    })?;
    let check = IndexCheck {
        len,
        xxh3: xxh3.digest128().to_le_bytes(),
    };
    if check != kept.index {
        return Ok(None);
    }
    Ok(Some((
        hex::encode(sha256.finalize()),
        mac.map(|m| hex::encode(m.finalize().into_bytes())),
    )))
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

/// The annotations of an entry: the layer's figures as the local tier keeps
/// them, the index check, and the MAC when entries are signed.
pub fn annotations(kept: &Kept, mac: Option<&str>) -> BTreeMap<String, String> {
    let s = &kept.summary;
    let compression = serde_json::to_value(s.compression)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut a = BTreeMap::new();
    let mut put = |k: &str, v: String| a.insert(format!("{PREFIX}{k}"), v);
    put("layer.digest", s.digest.to_string());
    put("layer.size", s.compressed.to_string());
    put("layer.diff_id", s.diff_id.to_string());
    put("layer.compression", compression);
    put("layer.uncompressed", s.uncompressed.to_string());
    put("layer.files", s.files.to_string());
    put("layer.entries", s.entries.to_string());
    put("index.xxh3", hex::encode(kept.index.xxh3));
    if let Some(mac) = mac {
        put("mac", format!("hmac-sha256:{mac}"));
    }
    a
}

/// The kept record an entry's annotations describe (its index of
/// `index_len` bytes), and its MAC if it has one; None when anything is
/// missing or malformed.
pub fn from_annotations(
    a: &BTreeMap<String, String>,
    index_len: u64,
) -> Option<(Kept, Option<String>)> {
    let get = |k: &str| a.get(&format!("{PREFIX}{k}")).map(String::as_str);
    let number = |k: &str| get(k)?.parse::<u64>().ok();
    let digest = |k: &str| Digest::parse(get(k)?, "shared entry").ok();
    let compression: Compression =
        serde_json::from_value(serde_json::Value::String(get("layer.compression")?.into())).ok()?;
    let xxh3: [u8; 16] = hex::decode(get("index.xxh3")?).ok()?.try_into().ok()?;
    let kept = Kept {
        summary: LayerSummary {
            digest: digest("layer.digest")?,
            diff_id: digest("layer.diff_id")?,
            compression,
            compressed: number("layer.size")?,
            uncompressed: number("layer.uncompressed")?,
            files: number("layer.files")?,
            entries: number("layer.entries")?,
        },
        index: IndexCheck {
            len: index_len,
            xxh3,
        },
    };
    let mac = match get("mac") {
        None => None,
        Some(m) => Some(m.strip_prefix("hmac-sha256:")?.to_owned()),
    };
    Some((kept, mac))
}

/// Does this record answer the descriptor asking (its digest, size and
/// diff_id)? The reason it does not, if not.
pub fn answers(kept: &Kept, layer: &LayerDesc) -> Result<(), &'static str> {
    let s = &kept.summary;
    if s.digest != layer.digest {
        return Err("another layer's entry");
    }
    if s.compressed != layer.size {
        return Err("another size than the layer's");
    }
    if layer.diff_id.as_ref().is_some_and(|d| *d != s.diff_id) {
        return Err("another diff_id than the layer's");
    }
    if kept.index.len > INDEX_LIMIT {
        return Err("an index larger than the limit");
    }
    Ok(())
}

/// An index coming in: written to a temporary in the local tier's scratch
/// directory and hashed as it comes (never more than its declared length).
pub struct Incoming {
    file: BufWriter<NamedTempFile>,
    len: u64,
    limit: u64,
    xxh3: Xxh3,
    sha256: Sha256,
    mac: Option<Hmac<Sha256>>,
}

impl Incoming {
    pub fn new(dir: &Path, kept: &Kept, key: Option<&Key>) -> io::Result<Incoming> {
        let tmp = NamedTempFile::with_prefix_in(".idx-", dir)?;
        Ok(Incoming {
            file: BufWriter::with_capacity(64 * 1024, tmp),
            len: 0,
            limit: kept.index.len,
            xxh3: Xxh3::new(),
            sha256: Sha256::new(),
            mac: key.map(|k| k.start(kept)),
        })
    }

    /// Takes the next bytes; past the declared length is an error.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.len += bytes.len() as u64;
        if self.len > self.limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "longer than its entry declares",
            ));
        }
        self.xxh3.update(bytes);
        self.sha256.update(bytes);
        if let Some(mac) = &mut self.mac {
            mac.update(bytes);
        }
        self.file.write_all(bytes)
    }

    /// The index, if it is whole and everything about it checks: its length
    /// and checksum, its sha256 (`digest`, when the entry names one), its
    /// MAC (when a key is set), and a full decode agreeing with `kept`.
    pub fn finish(
        self,
        kept: &Kept,
        digest: Option<&Digest>,
        mac: Option<&str>,
    ) -> Result<TempPath, &'static str> {
        if self.len != kept.index.len {
            return Err("index length");
        }
        let found = IndexCheck {
            len: self.len,
            xxh3: self.xxh3.digest128().to_le_bytes(),
        };
        if found != kept.index {
            return Err("index checksum");
        }
        if let Some(d) = digest {
            if d.algorithm() != Algorithm::Sha256 || hex::encode(self.sha256.finalize()) != d.hex()
            {
                return Err("blob digest");
            }
        }
        if let Some(expected) = self.mac {
            let Some(given) = mac.and_then(|m| hex::decode(m).ok()) else {
                return Err("no MAC (STRATA_SHARED_CACHE_KEY is set)");
            };
            if expected.verify_slice(&given).is_err() {
                return Err("wrong MAC");
            }
        }
        let path = self
            .file
            .into_inner()
            .map_err(|_| "cannot be written locally")?
            .into_temp_path();
        decodes(&path, &kept.summary)?;
        Ok(path)
    }
}

/// Reads an index through once, as views will: its footer names the same
/// layer and figures, its entries decode, are in index order, and number
/// what the summary says, and its block directory names its blocks. Each
/// block is bounded by the reader.
pub fn decodes(path: &Path, summary: &LayerSummary) -> Result<(), &'static str> {
    let footer = IndexReader::footer(path).map_err(|_| "index does not decode")?;
    if footer.summary.as_ref() != Some(summary) || footer.entries != summary.entries {
        return Err("index of other figures");
    }
    let count = IndexReader::verify(path)?;
    if count != summary.entries {
        return Err("index of other figures");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::super::tier::sample_summary;
    use super::*;

    fn kept() -> Kept {
        Kept {
            summary: sample_summary(),
            index: IndexCheck::of(&b"index bytes"[..]).unwrap(),
        }
    }

    #[test]
    fn annotations_carry_the_kept_record_and_nothing_malformed_reads_back() {
        let k = kept();
        let a = annotations(&k, Some("00ff"));
        assert_eq!(
            from_annotations(&a, k.index.len),
            Some((k.clone(), Some("00ff".into())))
        );
        assert_eq!(
            from_annotations(&annotations(&k, None), k.index.len),
            Some((k.clone(), None))
        );
        for key in [
            "layer.digest",
            "layer.size",
            "index.xxh3",
            "layer.compression",
        ] {
            let mut bad = a.clone();
            bad.insert(format!("{PREFIX}{key}"), "x".into());
            assert_eq!(from_annotations(&bad, k.index.len), None, "{key}");
            bad.remove(&format!("{PREFIX}{key}"));
            assert_eq!(from_annotations(&bad, k.index.len), None, "{key}");
        }
        let mut bad = a.clone();
        bad.insert(format!("{PREFIX}mac"), "md5:00".into());
        assert_eq!(from_annotations(&bad, k.index.len), None);
    }

    #[test]
    fn an_entry_answers_only_the_descriptor_of_its_own_layer() {
        let k = kept();
        let s = &k.summary;
        let layer = LayerDesc {
            digest: s.digest.clone(),
            size: s.compressed,
            diff_id: Some(s.diff_id.clone()),
            declared: crate::image::Declared::Sniff,
            history: None,
            foreign: None,
        };
        assert_eq!(answers(&k, &layer), Ok(()));
        let other = Digest::parse(&format!("sha256:{}", "ef".repeat(32)), "t").unwrap();
        for (l, why) in [
            (
                LayerDesc {
                    digest: other.clone(),
                    ..layer.clone()
                },
                "another layer's entry",
            ),
            (
                LayerDesc {
                    size: 11,
                    ..layer.clone()
                },
                "another size than the layer's",
            ),
            (
                LayerDesc {
                    diff_id: Some(other),
                    ..layer.clone()
                },
                "another diff_id than the layer's",
            ),
        ] {
            assert_eq!(answers(&k, &l), Err(why));
        }
        let mut big = k.clone();
        big.index.len = INDEX_LIMIT + 1;
        assert!(answers(&big, &layer).is_err());
    }

    #[test]
    fn a_mac_binds_the_key_the_layer_the_record_and_every_index_byte() {
        let k = kept();
        let key = Key::new(b"0123456789abcdef".to_vec());
        let mac = key.sign(&k, &b"index bytes"[..]).unwrap();
        assert_eq!(mac.len(), 64);
        assert_ne!(
            Key::new(b"0123456789abcdeF".to_vec())
                .sign(&k, &b"index bytes"[..])
                .unwrap(),
            mac
        );
        assert_ne!(key.sign(&k, &b"index byteS"[..]).unwrap(), mac);
        let mut other = k.clone();
        other.summary.files += 1;
        assert_ne!(key.sign(&other, &b"index bytes"[..]).unwrap(), mac);
        assert_eq!(format!("{key:?}"), "Key(…)");
        let (sha, signed) = outgoing(&k, &b"index bytes"[..], Some(&key))
            .unwrap()
            .unwrap();
        assert_eq!(signed, Some(mac));
        assert_eq!(sha, hex::encode(Sha256::digest(b"index bytes")));
        assert_eq!(outgoing(&k, &b"index byteS"[..], None).unwrap(), None);
    }

    #[test]
    fn an_incoming_index_is_refused_when_long_short_edited_or_unsigned() {
        let dir = tempfile::tempdir().unwrap();
        let k = kept();
        let key = Key::new(b"0123456789abcdef".to_vec());
        let receive = |bytes: &[u8], key: Option<&Key>, mac: Option<&str>| {
            let mut inc = Incoming::new(dir.path(), &k, key).unwrap();
            inc.write(bytes).map_err(|_| "write")?;
            inc.finish(&k, None, mac).map(|_| ())
        };
        assert_eq!(receive(b"index bytes and more", None, None), Err("write"));
        assert_eq!(receive(b"index byte", None, None), Err("index length"));
        assert_eq!(receive(b"index byteS", None, None), Err("index checksum"));
        let mac = key.sign(&k, &b"index bytes"[..]).unwrap();
        assert_eq!(
            receive(b"index bytes", Some(&key), None),
            Err("no MAC (STRATA_SHARED_CACHE_KEY is set)")
        );
        let wrong = "00".repeat(32);
        assert_eq!(
            receive(b"index bytes", Some(&key), Some(&wrong)),
            Err("wrong MAC")
        );
        // Intact and signed, but not an index: refused by the decode.
        assert_eq!(
            receive(b"index bytes", Some(&key), Some(&mac)),
            Err("index does not decode")
        );
    }

    #[test]
    fn tags_name_the_digest_and_the_format() {
        let d = Digest::parse(&format!("sha256:{}", "ab".repeat(32)), "t").unwrap();
        let t = tag(&d).unwrap();
        assert_eq!(t, format!("sha256-{}.v{FORMAT_VERSION}", "ab".repeat(32)));
        assert!(t.len() <= 128);
        let long = Digest::parse(&format!("sha512:{}", "ab".repeat(64)), "t").unwrap();
        assert_eq!(tag(&long), None);
    }
}
