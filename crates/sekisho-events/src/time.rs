//! RFC 3339 timestamps for `Event::time`, without a date-time dependency.

use std::time::{SystemTime, UNIX_EPOCH};

/// Formats `t` as RFC 3339 UTC with milliseconds, the format of `Event::time`.
///
/// Example: `2026-11-22T15:04:05.123Z`. Times before 1970 are written as the epoch.
pub fn rfc3339_millis(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let millis = since.subsec_millis();
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    // Digits into a fixed buffer, not `format!` or a `String` push per char: every
    // request's event is stamped, and this was a visible part of the per-request cost.
    let mut buf = *b"0000-00-00T00:00:00.000Z";
    let fields = [
        (y, 0, 4),
        (m, 5, 2),
        (d, 8, 2),
        (rem / 3600, 11, 2),
        ((rem % 3600) / 60, 14, 2),
        (rem % 60, 17, 2),
        (u64::from(millis), 20, 3),
    ];
    for (mut n, at, width) in fields {
        for slot in buf.iter_mut().skip(at).take(width).rev() {
            *slot = b'0' + (n % 10) as u8;
            n /= 10;
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// The current time as `rfc3339_millis` formats it.
pub fn now_rfc3339() -> String {
    rfc3339_millis(SystemTime::now())
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`, restricted to non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339_millis(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (leap day) 12:34:56.789
        let t = UNIX_EPOCH + Duration::from_millis(951_827_696_789);
        assert_eq!(rfc3339_millis(t), "2000-02-29T12:34:56.789Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_392_000);
        assert_eq!(rfc3339_millis(t), "2026-11-23T00:00:00.000Z");
    }
}
