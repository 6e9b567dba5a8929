//! Time variables: `TIME`, `TIME_EPOCH`, `TIME_YEAR`, …, and `DURATION` (microseconds).

use super::{push, push_num, Values, Var};
use crate::transaction::data::TxData;
use std::borrow::Cow;

/// (year, month 1–12, day 1–31) of a day count since 1970-01-01 (civil calendar).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

pub(super) fn collect<'a>(var: Var, d: &'a TxData, out: &mut Values<'a>) -> bool {
    use Var::*;
    let time_var = matches!(
        var,
        Duration
            | Time
            | TimeDay
            | TimeEpoch
            | TimeHour
            | TimeMin
            | TimeMon
            | TimeSec
            | TimeWday
            | TimeYear
    );
    if !time_var {
        return false;
    }
    let epoch = d.start_epoch as i64;
    let days = epoch.div_euclid(86_400);
    let secs = epoch.rem_euclid(86_400);
    let (y, mo, day) = civil(days);
    let (h, mi, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match var {
        Var::Duration => {
            let us = d.started.map_or(0, |t| t.elapsed().as_micros());
            push_num(out, var, us);
        }
        Var::Time => push(
            out,
            var,
            Cow::Owned(format!("{h:02}:{mi:02}:{s:02}").into_bytes()),
        ),
        Var::TimeDay => push_num(out, var, day),
        Var::TimeEpoch => push_num(out, var, epoch),
        Var::TimeHour => push_num(out, var, h),
        Var::TimeMin => push_num(out, var, mi),
        // ModSecurity's TIME_MON is 0-based (struct tm).
        Var::TimeMon => push_num(out, var, mo - 1),
        Var::TimeSec => push_num(out, var, s),
        Var::TimeWday => push_num(out, var, (days + 4).rem_euclid(7)),
        Var::TimeYear => push_num(out, var, y),
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::civil;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(19_723), (2024, 1, 1));
        assert_eq!(civil(11_016), (2000, 2, 29));
    }
}
