//! Human durations in the config file ("250ms", "30s", "5m", "1h").

use std::time::Duration;

/// Parses `<number><unit>` with unit one of `ms`, `s`, `m`, `h`; a bare number is seconds. The
/// number may have a decimal fraction (`1.5s`), kept exactly to the nanosecond (no float).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty() || frac.contains('.') || (num.contains('.') && frac.is_empty()) {
        return Err(format!(
            "`{text}` is not a duration (use e.g. 500ms, 1.5s, 5m, 1h)"
        ));
    }
    let too_large = || format!("`{text}` is not a duration (number too large)");
    let whole: u64 = int.parse().map_err(|_| too_large())?;
    // The fraction as nanoseconds of one unit: at most 9 digits are significant.
    let digits = &frac[..frac.len().min(9)];
    let frac_nanos: u64 = format!("{digits:0<9}").parse().map_err(|_| too_large())?;
    let unit_nanos: u128 = match unit.trim() {
        "ms" => 1_000_000,
        "" | "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        other => {
            return Err(format!(
                "`{text}`: unknown unit `{other}` (use ms, s, m or h)"
            ))
        }
    };
    let nanos =
        u128::from(whole) * unit_nanos + u128::from(frac_nanos) * unit_nanos / 1_000_000_000;
    let secs = u64::try_from(nanos / 1_000_000_000).map_err(|_| too_large())?;
    Ok(Duration::new(secs, (nanos % 1_000_000_000) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_unit() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0.25m"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("2.5ms"), Ok(Duration::from_micros(2500)));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_duration("").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("10x").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("1.s").is_err());
        assert!(parse_duration(".5s").is_err());
        assert!(parse_duration("1.2.3s").is_err());
        assert!(parse_duration("99999999999999999999999s").is_err());
    }
}
