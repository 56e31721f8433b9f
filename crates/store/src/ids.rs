//! Run ids, timestamps and the identity of the current process (user, host, pid) recorded
//! with runs and audit events.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{SecondsFormat, Utc};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Returns the current UTC time as RFC 3339 with milliseconds, e.g.
/// `2025-03-01T12:00:00.000Z`. The fixed width makes text order equal time order.
pub(crate) fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Returns the current time in milliseconds since the Unix epoch.
pub(crate) fn now_unix_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Returns a new run id `YYYYMMDD-HHMMSS-<6 hex>` (UTC). Ids sort by start second; the hex
/// suffix separates runs started in the same second.
pub(crate) fn new_run_id() -> String {
    let now = Utc::now();
    format!(
        "{}-{:06x}",
        now.format("%Y%m%d-%H%M%S"),
        random_u32() & 0xff_ffff
    )
}

/// Returns 32 unpredictable-enough bits for ids and jitter: the BLAKE3 hash of the clock,
/// the process id and a per-process counter. Not for cryptographic use.
pub(crate) fn random_u32() -> u32 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut hasher = blake3::Hasher::new();
    hasher.update(&nanos.to_le_bytes());
    hasher.update(&std::process::id().to_le_bytes());
    hasher.update(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    let digest = hasher.finalize();
    let bytes = digest.as_bytes();
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// Returns the login name from `$USER` (or `$USERNAME` on Windows), else the name the
/// account database gives the process's user (containers and cron jobs often set no
/// `$USER`), else `unknown`.
pub fn current_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .ok()
        .filter(|user| !user.trim().is_empty())
        .or_else(|| whoami::fallible::username().ok().filter(|user| !user.trim().is_empty()))
        .unwrap_or_else(|| "unknown".to_string())
}

/// Returns the host name from the kernel (Linux), `/etc/hostname` or `$HOSTNAME`, or
/// `unknown`.
pub(crate) fn current_host() -> String {
    let from_files = ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|path| std::fs::read_to_string(path).ok());
    from_files
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|host| host.trim().to_string())
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// Returns whether a process with this id runs on this host, or `None` where that cannot be
/// checked (anything but Linux).
pub(crate) fn process_is_running(pid: u32) -> Option<bool> {
    if cfg!(target_os = "linux") {
        Some(std::path::Path::new("/proc").join(pid.to_string()).exists())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_id_has_date_time_hex_shape() {
        let id = new_run_id();
        let parts: Vec<&str> = id.split('-').collect();

        assert_eq!(parts.len(), 3, "{id}");
        assert_eq!(parts[0].len(), 8, "{id}");
        assert_eq!(parts[1].len(), 6, "{id}");
        assert_eq!(parts[2].len(), 6, "{id}");
        assert!(
            parts
                .iter()
                .all(|p| p.bytes().all(|b| b.is_ascii_hexdigit())),
            "{id}"
        );
    }

    #[test]
    fn timestamp_is_fixed_width_utc() {
        let stamp = now_rfc3339();

        assert_eq!(stamp.len(), "2025-03-01T12:00:00.000Z".len(), "{stamp}");
        assert!(stamp.ends_with('Z'), "{stamp}");
    }
}
