//! Sizes as people write them in a config: `10MiB`, `500k`, `1G`, `4096`.
//! Every unit is a power of 1024, as docker's `max-size` and `ls -h` mean
//! them: `k`/`K`/`KB`/`KiB` is 1024 bytes, `m`/`M`/`MB`/`MiB` 1024², `g`/`G`/
//! `GB`/`GiB` 1024³. A bare number is bytes.

/// Parses `text` into bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let unit = unit.trim();
    let scale: u64 = match unit {
        "" | "b" | "B" => 1,
        "k" | "K" | "kb" | "KB" | "kB" | "KiB" | "kib" => 1 << 10,
        "m" | "M" | "mb" | "MB" | "MiB" | "mib" => 1 << 20,
        "g" | "G" | "gb" | "GB" | "GiB" | "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit `{other}` in `{t}` (write it as 4096, 500k, 10MiB or 1G)"
            ));
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{t}` is not a size (write it as 4096, 500k, 10MiB or 1G)"))?;
    let bytes = value * scale as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("`{t}` is too large"));
    }
    Ok(bytes.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn parses_the_forms_users_write() {
        for (text, want) in [
            ("4096", 4096),
            ("500k", 500 << 10),
            ("500K", 500 << 10),
            ("10MiB", 10 << 20),
            ("10 MB", 10 << 20),
            ("1G", 1 << 30),
            ("1.5m", 3 << 19),
            ("0", 0),
        ] {
            assert_eq!(parse_size(text), Ok(want), "{text}");
        }
        for bad in ["", "ten", "10 parsecs", "1e400G", "-1k"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
