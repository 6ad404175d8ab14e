//! Hostile package databases built in code, for the tests
//! (tests/it/hostile_packages.rs) and the hostile benchmark
//! (benches/hostile.rs): small images whose parsing once grew without bound
//! (issue 18: 2 and 7).

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::builder::{Compress, OciLayout};

/// `pattern` repeated up to `len` bytes, as a reader: nothing held whole.
pub struct Repeat {
    pattern: &'static [u8],
    left: u64,
    pos: usize,
}

impl Repeat {
    pub fn new(pattern: &'static [u8], len: u64) -> Repeat {
        Repeat {
            pattern,
            left: len,
            pos: 0,
        }
    }
}

impl Read for Repeat {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < buf.len() && self.left > 0 {
            let take = (self.pattern.len() - self.pos)
                .min(buf.len() - n)
                .min(self.left.min(usize::MAX as u64) as usize);
            buf[n..n + take].copy_from_slice(&self.pattern[self.pos..self.pos + take]);
            n += take;
            self.left -= take as u64;
            self.pos = (self.pos + take) % self.pattern.len();
        }
        Ok(n)
    }
}

/// The 4,000-byte directory the wheel sits in.
pub fn long_root() -> String {
    format!("srv/{}", "d".repeat(4000))
}

pub const LONG_RECORD_METADATA: &[u8] = b"Metadata-Version: 2.1\nName: x\nVersion: 1.0\n";

/// (The tests write uncompressed layers, the benchmark gzip ones: the same
/// tar either way.)
///
/// One layer: a wheel `x` under a 4,000-byte directory, its RECORD `lines`
/// lines of `a,,` (4,000,000 lines: 16 MB of RECORD, a ~100 KB image), and
/// the file `a` they all name. Image `h`.
pub fn long_record(dir: &Path, lines: u64, compress: Compress) -> PathBuf {
    let root = long_root();
    let mut oci = OciLayout::new(dir);
    let layer = oci.layer(compress, |w| {
        w.file(&format!("{root}/a"), b"0123456789");
        let dist = format!("{root}/x-1.0.dist-info");
        w.file(&format!("{dist}/METADATA"), LONG_RECORD_METADATA);
        w.file_from(
            &format!("{dist}/RECORD"),
            lines * 4,
            Repeat::new(b"a,,\n", lines * 4),
        );
    });
    oci.image("h", &[&layer], "linux/amd64");
    oci.finish()
}

/// A dpkg status naming packages `p0`… (each declaring `Installed-Size:
/// 1`) and the one-byte files `a`…`z` (first layer), then `layers` layers
/// of `per_layer` lists each, every list `list_bytes` of 2-byte lines (`a\n`,
/// `b\n`…). 12 layers of 2 lists of 16 MiB: a ~1.8 MB image of 200 M lines.
/// Image `h`.
pub fn tiny_list_lines(
    dir: &Path,
    layers: usize,
    per_layer: usize,
    list_bytes: u64,
    compress: Compress,
) -> PathBuf {
    let mut oci = OciLayout::new(dir);
    let status: String = (0..layers * per_layer)
        .map(|i| {
            format!(
                "Package: p{i}\nStatus: install ok installed\nVersion: 1\nInstalled-Size: 1\n\n"
            )
        })
        .collect();
    let mut all = vec![oci.layer(compress, |w| {
        w.file("var/lib/dpkg/status", status.as_bytes());
        for c in b'a'..=b'z' {
            w.file(&(c as char).to_string(), &[c]);
        }
    })];
    const LETTERS: &[u8] =
        b"a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\no\np\nq\nr\ns\nt\nu\nv\nw\nx\ny\nz\n";
    for layer in 0..layers {
        all.push(oci.layer(compress, |w| {
            for k in 0..per_layer {
                let i = layer * per_layer + k;
                w.file_from(
                    &format!("var/lib/dpkg/info/p{i}.list"),
                    list_bytes,
                    Repeat::new(LETTERS, list_bytes),
                );
            }
        }));
    }
    let refs: Vec<&_> = all.iter().collect();
    oci.image("h", &refs, "linux/amd64");
    oci.finish()
}

/// A dpkg status whose one package has a name of `len` bytes. Image `h`.
pub fn long_name(dir: &Path, len: usize, compress: Compress) -> PathBuf {
    let mut oci = OciLayout::new(dir);
    let status = format!(
        "Package: {}\nStatus: install ok installed\nVersion: 1\nInstalled-Size: 2\n",
        "n".repeat(len)
    );
    let layer = oci.layer(compress, |w| {
        w.file("var/lib/dpkg/status", status.as_bytes());
    });
    oci.image("h", &[&layer], "linux/amd64");
    oci.finish()
}
