//! Builds a tiny MaxMind DB (format 2.0, IPv4, 24-bit records) holding one /24 network.

use crate::operators::{build, MatchOutput, OperatorEnv};
use std::path::Path;

fn ctrl(out: &mut Vec<u8>, ty: u8, size: usize) {
    let size = u8::try_from(size).unwrap();
    assert!(size < 29);
    if ty <= 7 {
        out.push((ty << 5) | size);
    } else {
        out.push(size);
        out.push(ty - 7);
    }
}

fn s(out: &mut Vec<u8>, v: &str) {
    ctrl(out, 2, v.len());
    out.extend_from_slice(v.as_bytes());
}

fn double(out: &mut Vec<u8>, v: f64) {
    ctrl(out, 3, 8);
    out.extend_from_slice(&v.to_be_bytes());
}

fn uint(out: &mut Vec<u8>, ty: u8, v: u64, bytes: usize) {
    ctrl(out, ty, bytes);
    out.extend_from_slice(&v.to_be_bytes()[8 - bytes..]);
}

/// Writes the database and returns its path; `81.2.69.0/24` is London.
fn write_db(dir: &Path) -> std::path::PathBuf {
    let mut data = Vec::new();
    ctrl(&mut data, 7, 6);
    // city
    s(&mut data, "city");
    ctrl(&mut data, 7, 1);
    s(&mut data, "names");
    ctrl(&mut data, 7, 1);
    s(&mut data, "en");
    s(&mut data, "London");
    // continent
    s(&mut data, "continent");
    ctrl(&mut data, 7, 2);
    s(&mut data, "code");
    s(&mut data, "EU");
    s(&mut data, "names");
    ctrl(&mut data, 7, 1);
    s(&mut data, "en");
    s(&mut data, "Europe");
    // country
    s(&mut data, "country");
    ctrl(&mut data, 7, 2);
    s(&mut data, "iso_code");
    s(&mut data, "GB");
    s(&mut data, "names");
    ctrl(&mut data, 7, 1);
    s(&mut data, "en");
    s(&mut data, "United Kingdom");
    // location
    s(&mut data, "location");
    ctrl(&mut data, 7, 2);
    s(&mut data, "latitude");
    double(&mut data, 51.5142);
    s(&mut data, "longitude");
    double(&mut data, -0.0931);
    // postal
    s(&mut data, "postal");
    ctrl(&mut data, 7, 1);
    s(&mut data, "code");
    s(&mut data, "EC2V");
    // subdivisions: [ { names: { en: England } } ]
    s(&mut data, "subdivisions");
    ctrl(&mut data, 11, 1);
    ctrl(&mut data, 7, 1);
    s(&mut data, "names");
    ctrl(&mut data, 7, 1);
    s(&mut data, "en");
    s(&mut data, "England");

    // Search tree: 24 nodes along the bits of 81.2.69.0; the other branch is "not found".
    let prefix: u32 = u32::from(std::net::Ipv4Addr::new(81, 2, 69, 0));
    let node_count: u32 = 24;
    let mut tree = Vec::new();
    for k in 0..24u32 {
        let bit = (prefix >> (31 - k)) & 1;
        let on_path = if k == 23 { node_count + 16 } else { k + 1 };
        let (left, right) = if bit == 0 {
            (on_path, node_count)
        } else {
            (node_count, on_path)
        };
        tree.extend_from_slice(&left.to_be_bytes()[1..]);
        tree.extend_from_slice(&right.to_be_bytes()[1..]);
    }

    let mut meta = Vec::new();
    ctrl(&mut meta, 7, 9);
    s(&mut meta, "binary_format_major_version");
    uint(&mut meta, 5, 2, 2);
    s(&mut meta, "binary_format_minor_version");
    uint(&mut meta, 5, 0, 2);
    s(&mut meta, "build_epoch");
    uint(&mut meta, 9, 1_700_000_000, 8);
    s(&mut meta, "database_type");
    s(&mut meta, "GeoIP2-City");
    s(&mut meta, "description");
    ctrl(&mut meta, 7, 1);
    s(&mut meta, "en");
    s(&mut meta, "sekisho test");
    s(&mut meta, "ip_version");
    uint(&mut meta, 5, 4, 2);
    s(&mut meta, "languages");
    ctrl(&mut meta, 11, 1);
    s(&mut meta, "en");
    s(&mut meta, "node_count");
    uint(&mut meta, 6, u64::from(node_count), 4);
    s(&mut meta, "record_size");
    uint(&mut meta, 5, 24, 2);

    let mut file = tree;
    file.extend_from_slice(&[0u8; 16]);
    file.extend_from_slice(&data);
    file.extend_from_slice(b"\xab\xcd\xefMaxMind.com");
    file.extend_from_slice(&meta);
    let path = dir.join("test-city.mmdb");
    std::fs::write(&path, file).unwrap();
    path
}

#[test]
fn looks_up_a_city() {
    let dir = std::env::temp_dir().join(format!("sekisho-geo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = write_db(&dir);
    let env = OperatorEnv {
        base_dir: &dir,
        geo_db: Some(&db),
    };
    let op = build("geoLookup", "", &env).unwrap();
    let mut out = MatchOutput::default();
    assert!(op.matches(b"81.2.69.160", &mut out));
    let get = |k: &str| {
        out.geo
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("COUNTRY_CODE"), Some("GB"));
    assert_eq!(get("COUNTRY_NAME"), Some("United Kingdom"));
    assert_eq!(get("COUNTRY_CONTINENT"), Some("Europe"));
    assert_eq!(get("REGION"), Some("England"));
    assert_eq!(get("CITY"), Some("London"));
    assert_eq!(get("POSTAL_CODE"), Some("EC2V"));
    assert_eq!(get("LATITUDE"), Some("51.514200"));
    assert_eq!(get("LONGITUDE"), Some("-0.093100"));
    let mut out = MatchOutput::default();
    assert!(!op.matches(b"81.2.70.1", &mut out));
    assert!(out.geo.is_empty());
    assert!(!op.matches(b"not-an-ip", &mut MatchOutput::default()));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn needs_a_database() {
    let env = OperatorEnv {
        base_dir: Path::new("/"),
        geo_db: None,
    };
    assert!(build("geoLookup", "", &env)
        .unwrap_err()
        .contains("SecGeoLookupDb"));
    let missing = Path::new("/nonexistent/x.mmdb");
    let env = OperatorEnv {
        base_dir: Path::new("/"),
        geo_db: Some(missing),
    };
    assert!(build("geoLookup", "", &env)
        .unwrap_err()
        .contains("cannot read"));
}
