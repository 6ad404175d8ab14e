//! PAX extended headers: the records strata applies to the member after them.

use std::io;

use super::{bad, NAME_LIMIT};

/// The PAX records strata applies.
#[derive(Debug, Default)]
pub(super) struct Pax {
    pub path: Option<Vec<u8>>,
    pub link: Option<Vec<u8>>,
    pub size: Option<u64>,
    pub uid: Option<u64>,
    pub gid: Option<u64>,
    pub mtime: Option<u64>,
    pub sparse_size: Option<u64>,
    pub sparse_name: Option<Vec<u8>>,
}

impl Pax {
    /// Parses `LEN KEY=VALUE\n` records (values may hold newlines: the
    /// length frames each record).
    pub fn parse(mut data: &[u8]) -> io::Result<Pax> {
        let mut pax = Pax::default();
        let malformed = || bad("malformed PAX record");
        while !data.is_empty() && data[0] != 0 {
            let space = data.iter().position(|&b| b == b' ').ok_or_else(malformed)?;
            let len: usize = std::str::from_utf8(&data[..space])
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(malformed)?;
            if len <= space + 1 || len > data.len() || data[len - 1] != b'\n' {
                return Err(malformed());
            }
            let record = &data[space + 1..len - 1];
            data = &data[len..];
            let eq = record
                .iter()
                .position(|&b| b == b'=')
                .ok_or_else(malformed)?;
            let (key, value) = (&record[..eq], &record[eq + 1..]);
            let number = || -> io::Result<u64> {
                let text = std::str::from_utf8(value).map_err(|_| malformed())?;
                // mtime may carry a fraction: keep the seconds.
                let whole = text.split('.').next().unwrap_or("");
                whole.parse().map_err(|_| malformed())
            };
            match key {
                b"path" => pax.path = Some(value.to_vec()),
                b"linkpath" => pax.link = Some(value.to_vec()),
                b"size" => pax.size = Some(number()?),
                b"uid" => pax.uid = Some(number()?),
                b"gid" => pax.gid = Some(number()?),
                b"mtime" => pax.mtime = Some(number()?),
                b"GNU.sparse.realsize" | b"GNU.sparse.size" => pax.sparse_size = Some(number()?),
                b"GNU.sparse.name" => pax.sparse_name = Some(value.to_vec()),
                _ => {}
            }
        }
        if pax.path.as_ref().is_some_and(|p| p.len() > NAME_LIMIT)
            || pax.link.as_ref().is_some_and(|p| p.len() > NAME_LIMIT)
        {
            return Err(bad(format!("PAX path longer than {NAME_LIMIT} bytes")));
        }
        Ok(pax)
    }
}
