//! `@geoLookup`: looks the value (an IPv4/IPv6 address) up in the MaxMind database set by
//! `SecGeoLookupDb` and fills the `GEO` collection: `COUNTRY_CODE`, `COUNTRY_NAME`,
//! `COUNTRY_CONTINENT`, `REGION`, `CITY`, `POSTAL_CODE`, `LATITUDE`, `LONGITUDE` (those the
//! database has; names in English). Matches when the address is found.
//!
//! The database is read once per path and shared by every rule that uses it.
//!
//! ```text
//! SecGeoLookupDb /usr/share/GeoIP/GeoLite2-City.mmdb
//! SecRule REMOTE_ADDR "@geoLookup" "id:1,phase:1,chain,deny"
//!     SecRule GEO:COUNTRY_CODE "@pm XX YY"
//! ```

use super::{MatchOutput, Operator, OperatorEnv};
use maxminddb::{geoip2, Reader};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

type Db = Arc<Reader<Vec<u8>>>;

/// Databases already read, by path: a city database is tens of MB.
static OPENED: Mutex<Vec<(PathBuf, Db)>> = Mutex::new(Vec::new());

fn open(path: &Path) -> Result<Db, String> {
    let mut opened = OPENED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, db)) = opened.iter().find(|(p, _)| p == path) {
        return Ok(Arc::clone(db));
    }
    let db = Arc::new(
        Reader::open_readfile(path)
            .map_err(|e| format!("`@geoLookup` cannot read `{}`: {e}", path.display()))?,
    );
    opened.push((path.to_path_buf(), Arc::clone(&db)));
    Ok(db)
}

struct GeoLookup {
    db: Db,
}

impl std::fmt::Debug for GeoLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoLookup").finish_non_exhaustive()
    }
}

fn english<'a>(names: Option<&std::collections::BTreeMap<&'a str, &'a str>>) -> Option<&'a str> {
    names.and_then(|n| n.get("en").copied())
}

impl Operator for GeoLookup {
    fn matches(&self, input: &[u8], out: &mut MatchOutput) -> bool {
        let Some(ip) = std::str::from_utf8(input)
            .ok()
            .and_then(|s| s.trim().parse::<IpAddr>().ok())
        else {
            return false;
        };
        let Ok(city) = self.db.lookup::<geoip2::City>(ip) else {
            return false;
        };
        let mut geo: Vec<(&'static str, String)> = Vec::new();
        let mut put = |k: &'static str, v: Option<&str>| {
            if let Some(v) = v {
                geo.push((k, v.to_string()));
            }
        };
        if let Some(c) = &city.country {
            put("COUNTRY_CODE", c.iso_code);
            put("COUNTRY_NAME", english(c.names.as_ref()));
        }
        if let Some(c) = &city.continent {
            put("COUNTRY_CONTINENT", english(c.names.as_ref()).or(c.code));
        }
        let region = city.subdivisions.as_ref().and_then(|s| s.first());
        put("REGION", region.and_then(|r| english(r.names.as_ref())));
        put(
            "CITY",
            city.city.as_ref().and_then(|c| english(c.names.as_ref())),
        );
        put("POSTAL_CODE", city.postal.as_ref().and_then(|p| p.code));
        if let Some(l) = &city.location {
            put("LATITUDE", l.latitude.map(|v| format!("{v:.6}")).as_deref());
            put(
                "LONGITUDE",
                l.longitude.map(|v| format!("{v:.6}")).as_deref(),
            );
        }
        out.geo = geo;
        true
    }
}

pub(crate) fn build(_arg: &str, env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    let path = env
        .geo_db
        .ok_or("`@geoLookup` needs a database: set `SecGeoLookupDb`")?;
    Ok(Box::new(GeoLookup { db: open(path)? }))
}

#[cfg(test)]
mod tests;
