//! The stream read in one pass: what stays in memory, what is spooled,
//! what is scanned as it arrives, and where a cut stream ends.

use super::*;

fn archive() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let big = vec![7u8; (IN_MEMORY_ENTRY + 1) as usize];
    for (name, data) in [("abc.tar", &big[..]), ("manifest.json", b"[]")] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data).unwrap();
    }
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "id/layer.tar", "../abc.tar").unwrap();
    b.into_inner().unwrap()
}

fn read_all(fs: &StreamFs, path: &str) -> Vec<u8> {
    let (mut r, len) = fs.open(path).unwrap().unwrap();
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    assert_eq!(v.len() as u64, len);
    v
}

#[test]
fn small_entries_stay_in_memory_large_ones_are_spooled_links_resolve() {
    let bytes = archive();
    let fs = StreamFs::read(&bytes[..], "t".into(), &crate::source::NotShown).unwrap();
    assert_eq!(fs.read, bytes.len() as u64);
    assert_eq!(fs.spooled, IN_MEMORY_ENTRY + 1);
    assert_eq!(read_all(&fs, "manifest.json"), b"[]");
    assert_eq!(
        read_all(&fs, "id/layer.tar").len() as u64,
        IN_MEMORY_ENTRY + 1
    );
    assert!(fs.open("nope").unwrap().is_none());
}

#[test]
fn a_cut_stream_says_where_it_ends() {
    let bytes = archive();
    for cut in [600, 100_000] {
        let err = StreamFs::read(&bytes[..cut], "t".into(), &crate::source::NotShown)
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains(&format!("archive ends after {cut} bytes")),
            "{err}"
        );
    }
    let err = StreamFs::read(&b""[..], "t".into(), &crate::source::NotShown)
        .err()
        .unwrap();
    assert!(err.to_string().contains("empty stream"), "{err}");
}

/// Records what it is given, reading each blob through.
#[derive(Default)]
struct Recorder {
    taken: std::sync::Mutex<Vec<(String, u64)>>,
}

impl LayerSink for Recorder {
    fn take(&self, layer: &LayerDesc, blob: &mut (dyn Read + Send)) -> Result<()> {
        let n = io::copy(blob, &mut io::sink()).unwrap();
        assert_eq!(n, layer.size);
        self.taken
            .lock()
            .unwrap()
            .push((layer.digest.to_string(), n));
        Ok(())
    }
}

struct WithSink<'a>(&'a dyn LayerSink);

impl Reading for WithSink<'_> {
    fn begin(&self, _: &str) {}
    fn advance(&self, _: u64) {}
    fn end(&self) {}
    fn layers(&self) -> Option<&dyn LayerSink> {
        Some(self.0)
    }
}

/// A plain tar of one file of `len` noise bytes.
fn layer_tar(len: usize) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_size(len as u64);
    h.set_mode(0o644);
    // Incompressible (xorshift), as binaries are.
    let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ len as u64;
    let data: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    b.append_data(&mut h, "big.bin", &data[..]).unwrap();
    b.into_inner().unwrap()
}

fn export(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

#[test]
fn a_layer_named_by_its_digest_is_scanned_as_it_arrives_and_never_spooled() {
    let tar = layer_tar(400_000);
    let hex = crate::image::Digest::sha256_of(&tar).hex().to_owned();
    let gz = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut e, &layer_tar(300_000)).unwrap();
        e.finish().unwrap()
    };
    let gz_hex = crate::image::Digest::sha256_of(&gz).hex().to_owned();
    let legacy = layer_tar(350_000);
    let bytes = export(&[
        (&format!("{hex}.tar"), &tar),
        (&format!("blobs/sha256/{gz_hex}"), &gz),
        ("0123/layer.tar", &legacy),
        ("manifest.json", b"[]"),
    ]);
    let sink = Recorder::default();
    let fs = StreamFs::read(&bytes[..], "t".into(), &WithSink(&sink)).unwrap();
    assert_eq!(
        *sink.taken.lock().unwrap(),
        [(format!("sha256:{hex}"), tar.len() as u64)]
    );
    assert_eq!(fs.taken, tar.len() as u64);
    // A compressed blob and a layer not named by its digest wait in the spool.
    assert_eq!(fs.spooled, (gz.len() + legacy.len()) as u64);
    let (mut r, len) = fs.open(&format!("{hex}.tar")).unwrap().unwrap();
    assert_eq!(len, tar.len() as u64);
    assert!(r.read(&mut [0u8; 16]).is_err(), "its bytes are gone");
    assert_eq!(read_all(&fs, &format!("blobs/sha256/{gz_hex}")), gz);
    // Without a sink, everything large is spooled, as before.
    let fs = StreamFs::read(&bytes[..], "t".into(), &crate::source::NotShown).unwrap();
    assert_eq!(fs.taken, 0);
    assert_eq!(fs.spooled, (tar.len() + gz.len() + legacy.len()) as u64);
}

#[test]
fn a_stream_cut_inside_a_scanned_layer_says_where_it_ends() {
    let tar = layer_tar(400_000);
    let hex = crate::image::Digest::sha256_of(&tar).hex().to_owned();
    let bytes = export(&[(&format!("{hex}.tar"), &tar), ("manifest.json", b"[]")]);
    struct Failing;
    impl LayerSink for Failing {
        fn take(&self, _: &LayerDesc, blob: &mut (dyn Read + Send)) -> Result<()> {
            let _ = io::copy(blob, &mut io::sink());
            Err(Error::malformed("layer", "short"))
        }
    }
    let cut = 200_000;
    let err = StreamFs::read(&bytes[..cut], "t".into(), &WithSink(&Failing))
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains(&format!("archive ends after {cut} bytes")),
        "{err}"
    );
    // Whole, the sink's own error stands.
    let err = StreamFs::read(&bytes[..], "t".into(), &WithSink(&Failing))
        .err()
        .unwrap();
    assert!(err.to_string().contains("short"), "{err}");
}
