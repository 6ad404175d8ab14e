//! `strata explore` on a one-layer image of 3,000,000 files (work in progress).

#[path = "../tests/it/builder.rs"]
mod builder;
#[path = "support/data.rs"]
mod data;
#[path = "support/measure.rs"]
mod measure;

use builder::Compress;

fn main() {
    measure::serve();
    let dir = data::dir().join("hostile-trees").join("flat-3m");
    let done = dir.join("built");
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        builder::one_layer_image(&dir, "flat-3m", Compress::Zstd, |w| {
            builder::flat_files(w, 3_000_000)
        });
        std::fs::write(&done, b"").unwrap();
    }
    println!("oci:{}:flat-3m", dir.display());
}
