//! Images with dev and test tooling, build caches and test folders, built in
//! code for advise's tests (tests/it/advise_tooling.rs): real package
//! databases (dpkg status and lists, apk's installed, Python dist-info,
//! npm package.json) whose dev tool pulls in two exclusive dependencies and
//! one it shares with the runtime, and each file's bytes chosen so each
//! finding's figure is computed by hand.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::builder::{noise, Compress, Layer, OciLayout};

/// An image `name` of `layers`, each layer's step named (`created_by`).
pub fn image_with_steps(oci: &mut OciLayout, name: &str, layers: &[(&Layer, &str)]) {
    let refs: Vec<&Layer> = layers.iter().map(|(l, _)| *l).collect();
    let mut config = OciLayout::config_for(&refs, "linux/amd64");
    config["history"] = json!(layers
        .iter()
        .map(|(_, step)| json!({ "created_by": step }))
        .collect::<Vec<_>>());
    let mut desc = oci.manifest_with_config(&refs, &serde_json::to_vec(&config).unwrap());
    desc["annotations"] = json!({"org.opencontainers.image.ref.name": name});
    oci.push_index(desc);
}

const STATUS_BASE: &str = "\
Package: libc6
Status: install ok installed
Priority: required
Version: 2.36-9
Architecture: amd64

Package: libshared
Status: install ok installed
Version: 1.0-1
Architecture: amd64
Depends: libc6

Package: curl
Status: install ok installed
Version: 7.88-1
Architecture: amd64
Depends: libshared (>= 1.0), libc6
";

const STATUS_GDB: &str = "
Package: gdb
Status: install ok installed
Version: 13.1-3
Architecture: amd64
Depends: libexclusive1, libexclusive2 (>= 2), libshared, libc6 (>= 2.34)

Package: libexclusive1
Status: install ok installed
Version: 1.1-1
Architecture: amd64
Depends: libexclusive2

Package: libexclusive2
Status: install ok installed
Version: 2.2-1
Architecture: amd64
";

/// Bytes of each deb fixture file.
pub const LIBC: usize = 3000;
pub const LIBSHARED: usize = 2000;
pub const CURL: usize = 1500;
pub const GDB: usize = 7000;
pub const GDB_PY: usize = 500;
pub const LIBEXCLUSIVE1: usize = 1100;
pub const LIBEXCLUSIVE2: usize = 2200;

/// Debian-style: libc6, libshared and curl (needing libshared) in layer 1;
/// `apt-get install gdb` in layer 2 brings libexclusive1 and libexclusive2
/// (only gdb needs them) and needs libshared too. Image `deb`.
pub fn deb(dir: &Path) -> PathBuf {
    let mut oci = OciLayout::new(dir);
    let base = oci.layer(Compress::Gzip(1), |w| {
        w.file("lib/x86_64-linux-gnu/libc.so.6", &noise(LIBC, 1))
            .file("usr/lib/libshared.so.1", &noise(LIBSHARED, 2))
            .file("usr/bin/curl", &noise(CURL, 3))
            .file("var/lib/dpkg/status", STATUS_BASE.as_bytes())
            .file(
                "var/lib/dpkg/info/libc6:amd64.list",
                b"/lib/x86_64-linux-gnu/libc.so.6\n",
            )
            .file(
                "var/lib/dpkg/info/libshared:amd64.list",
                b"/usr/lib/libshared.so.1\n",
            )
            .file("var/lib/dpkg/info/curl.list", b"/usr/bin/curl\n");
    });
    let tools = oci.layer(Compress::Gzip(1), |w| {
        w.file("usr/bin/gdb", &noise(GDB, 4))
            .file("usr/share/gdb/python/gdb.py", &noise(GDB_PY, 5))
            .file("usr/lib/libexclusive1.so.1", &noise(LIBEXCLUSIVE1, 6))
            .file("usr/lib/libexclusive2.so.2", &noise(LIBEXCLUSIVE2, 7))
            .file(
                "var/lib/dpkg/status",
                format!("{STATUS_BASE}{STATUS_GDB}").as_bytes(),
            )
            .file(
                "var/lib/dpkg/info/gdb.list",
                b"/.\n/usr\n/usr/bin\n/usr/bin/gdb\n/usr/share/gdb/python/gdb.py\n",
            )
            .file(
                "var/lib/dpkg/info/libexclusive1:amd64.list",
                b"/usr/lib/libexclusive1.so.1\n",
            )
            .file(
                "var/lib/dpkg/info/libexclusive2:amd64.list",
                b"/usr/lib/libexclusive2.so.2\n",
            );
    });
    image_with_steps(
        &mut oci,
        "deb",
        &[
            (&base, "ADD rootfs.tar /"),
            (&tools, "RUN apt-get install -y gdb"),
        ],
    );
    oci.finish()
}

const APK_BASE: &str = "\
P:musl
V:1.2.4-r2
A:x86_64
I:4096
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1

P:libshared
V:1.0-r0
A:x86_64
I:4096
D:so:libc.musl-x86_64.so.1
p:so:libshared.so.1=1.0
F:usr/lib
R:libshared.so.1

P:curl
V:8.5.0-r0
A:x86_64
I:4096
D:so:libshared.so.1 so:libc.musl-x86_64.so.1
F:usr/bin
R:curl
";

const APK_GDB: &str = "
P:gdb
V:13.2-r0
A:x86_64
I:8192
D:so:libexcl1.so.1 libexcl2>=2 so:libshared.so.1 so:libc.musl-x86_64.so.1
F:usr/bin
R:gdb

P:libexcl1
V:1.1-r0
A:x86_64
I:4096
D:libexcl2
p:so:libexcl1.so.1=1.1
F:usr/lib
R:libexcl1.so.1

P:libexcl2
V:2.2-r0
A:x86_64
I:4096
F:usr/lib
R:libexcl2.so.2
";

/// Alpine-style: the same shape through `lib/apk/db/installed` (`D:`, `p:`
/// sonames), gdb added by `apk add` in layer 2. Image `apk`.
pub fn apk(dir: &Path) -> PathBuf {
    let mut oci = OciLayout::new(dir);
    let base = oci.layer(Compress::Gzip(1), |w| {
        w.file("lib/ld-musl-x86_64.so.1", &noise(LIBC, 11))
            .file("usr/lib/libshared.so.1", &noise(LIBSHARED, 12))
            .file("usr/bin/curl", &noise(CURL, 13))
            .file("lib/apk/db/installed", APK_BASE.as_bytes());
    });
    let tools = oci.layer(Compress::Gzip(1), |w| {
        w.file("usr/bin/gdb", &noise(GDB, 14))
            .file("usr/lib/libexcl1.so.1", &noise(LIBEXCLUSIVE1, 16))
            .file("usr/lib/libexcl2.so.2", &noise(LIBEXCLUSIVE2, 17))
            .file(
                "lib/apk/db/installed",
                format!("{APK_BASE}{APK_GDB}").as_bytes(),
            );
    });
    image_with_steps(
        &mut oci,
        "apk",
        &[(&base, "ADD alpine.tar /"), (&tools, "RUN apk add gdb")],
    );
    oci.finish()
}

pub const SITE: &str = "opt/venv/lib/python3.12/site-packages";

/// A wheel's dist-info (METADATA with its `Requires-Dist`, RECORD) and its
/// one module of `bytes`; returns the bytes it installs (module, METADATA, RECORD).
fn wheel(
    w: &mut super::builder::LayerWriter,
    name: &str,
    requires: &[&str],
    bytes: usize,
    seed: u64,
) -> usize {
    let dist = format!("{SITE}/{name}-1.0.dist-info");
    let mut meta = format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n");
    for r in requires {
        meta.push_str(&format!("Requires-Dist: {r}\n"));
    }
    meta.push_str("\nA description.\n");
    let record = format!(
        "{name}/__init__.py,sha256=x,{bytes}\n{name}-1.0.dist-info/METADATA,,\n{name}-1.0.dist-info/RECORD,,\n"
    );
    w.file(&format!("{SITE}/{name}/__init__.py"), &noise(bytes, seed))
        .file(&format!("{dist}/METADATA"), meta.as_bytes())
        .file(&format!("{dist}/RECORD"), record.as_bytes());
    bytes + meta.len() + record.len()
}

/// A venv: gunicorn and packaging (layer 1); `pip install pytest` (layer 2)
/// brings iniconfig and pluggy (only pytest needs them) and needs packaging
/// too; extras and uninstalled requirements are no dependency. Image
/// `python`; returns the bytes pytest, iniconfig and pluggy install.
pub fn python(dir: &Path) -> (PathBuf, usize) {
    let mut oci = OciLayout::new(dir);
    let base = oci.layer(Compress::Gzip(1), |w| {
        wheel(w, "gunicorn", &["packaging"], 5000, 21);
        wheel(w, "packaging", &[], 2500, 22);
    });
    let mut freed = 0;
    let tools = oci.layer(Compress::Gzip(1), |w| {
        freed += wheel(
            w,
            "pytest",
            &[
                "iniconfig",
                "Pluggy<2,>=1.5",
                "packaging",
                "colorama; sys_platform == \"win32\"",
                "pygments>=2.7.2; extra == \"dev\"",
            ],
            9000,
            23,
        );
        freed += wheel(w, "iniconfig", &[], 1200, 24);
        freed += wheel(w, "pluggy", &[], 2600, 25);
    });
    image_with_steps(
        &mut oci,
        "python",
        &[
            (&base, "RUN pip install gunicorn"),
            (&tools, "RUN pip install pytest"),
        ],
    );
    (oci.finish(), freed)
}

/// An npm package directory's package.json and its one file of `bytes`;
/// returns the bytes of both.
fn npm_package(
    w: &mut super::builder::LayerWriter,
    dir: &str,
    name: &str,
    deps: &[&str],
    bytes: usize,
    seed: u64,
) -> usize {
    let deps: serde_json::Map<String, serde_json::Value> =
        deps.iter().map(|d| (d.to_string(), json!("^1"))).collect();
    let manifest =
        serde_json::to_vec(&json!({"name": name, "version": "1.0.0", "dependencies": deps}))
            .unwrap();
    w.file(&format!("{dir}/package.json"), &manifest)
        .file(&format!("{dir}/index.js"), &noise(bytes, seed));
    manifest.len() + bytes
}

/// An app's node_modules: express needs ms; jest needs jest-cli and
/// pretty-format (only it) and ms (shared), jest-cli its own nested
/// pretty-format copy. Image `npm`; returns the bytes jest frees.
pub fn npm(dir: &Path) -> (PathBuf, usize) {
    let mut oci = OciLayout::new(dir);
    let nm = "app/node_modules";
    let base = oci.layer(Compress::Gzip(1), |w| {
        w.file("app/index.js", &noise(800, 30));
        npm_package(w, &format!("{nm}/express"), "express", &["ms"], 5000, 31);
        npm_package(w, &format!("{nm}/ms"), "ms", &[], 900, 32);
    });
    let mut freed = 0;
    let tools = oci.layer(Compress::Gzip(1), |w| {
        freed += npm_package(
            w,
            &format!("{nm}/jest"),
            "jest",
            &["jest-cli", "pretty-format", "ms"],
            4000,
            33,
        );
        freed += npm_package(
            w,
            &format!("{nm}/jest-cli"),
            "jest-cli",
            &["pretty-format"],
            3000,
            34,
        );
        freed += npm_package(
            w,
            &format!("{nm}/jest-cli/node_modules/pretty-format"),
            "pretty-format",
            &[],
            1800,
            35,
        );
        freed += npm_package(
            w,
            &format!("{nm}/pretty-format"),
            "pretty-format",
            &[],
            2000,
            36,
        );
    });
    image_with_steps(
        &mut oci,
        "npm",
        &[
            (&base, "RUN npm ci --omit=dev"),
            (&tools, "RUN npm install jest"),
        ],
    );
    (oci.finish(), freed)
}

/// A Go build cache (layer 1), a cargo registry (layer 2) and an app's
/// `spec/` beside its code (layer 3). Image `caches`.
pub fn caches(dir: &Path) -> PathBuf {
    let mut oci = OciLayout::new(dir);
    let go = oci.layer(Compress::Gzip(1), |w| {
        w.file("root/.cache/go-build/ab/abcdef-d", &noise(3000, 41))
            .file("root/.cache/go-build/cd/cdef01-a", &noise(1000, 42))
            .file("usr/local/bin/server", &noise(6000, 43));
    });
    let cargo = oci.layer(Compress::Gzip(1), |w| {
        w.file(
            "root/.cargo/registry/cache/index.crates.io-6f17d22bba15001f/serde-1.0.0.crate",
            &noise(5000, 44),
        );
    });
    let app = oci.layer(Compress::Gzip(1), |w| {
        w.file("app/app.rb", &noise(900, 45))
            .file("app/spec/models/user_spec.rb", &noise(700, 46))
            .file("app/spec/spec_helper.rb", &noise(300, 47));
    });
    image_with_steps(
        &mut oci,
        "caches",
        &[
            (&go, "RUN go build -o /usr/local/bin/server ."),
            (&cargo, "RUN cargo fetch"),
            (&app, "COPY . /app"),
        ],
    );
    oci.finish()
}
