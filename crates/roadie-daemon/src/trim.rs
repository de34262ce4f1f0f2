//! Hands start-up-only code back to the kernel once the daemon has settled.
//!
//! Start-up touches code all over the binary (argument parsing, config, migrations,
//! the keystore probe), and the kernel maps neighbouring pages of every touched page
//! too, so most of the binary stays resident although the idle daemon runs a small
//! part of it. Advising the kernel to page out the executable's clean, file-backed
//! pages drops them from the resident set; the pages that are used again come back
//! from the page cache on their first touch (a minor fault). Nothing else changes.

/// Pages out the executable's mapped code and read-only data; returns the bytes advised.
#[cfg(target_os = "linux")]
pub fn release_startup_code() -> usize {
    let Ok(exe) = std::fs::read_link("/proc/self/exe") else {
        return 0;
    };
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return 0;
    };
    let exe = exe.to_string_lossy().into_owned();
    let mut advised = 0usize;
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        let path = fields.nth(3).unwrap_or("");
        // Clean file-backed mappings only: code (r-xp) and read-only data (r--p).
        if path != exe || !(perms == "r-xp" || perms == "r--p") {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) else {
            continue;
        };
        if end <= start {
            continue;
        }
        // SAFETY: the range is a whole mapping of this process taken from
        // /proc/self/maps; MADV_PAGEOUT only drops clean file-backed pages from the
        // resident set, which the kernel faults back in on the next access. No memory
        // is unmapped and no contents change.
        #[allow(unsafe_code)]
        let result =
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_PAGEOUT) };
        if result == 0 {
            advised += end - start;
        }
    }
    advised
}

/// Elsewhere there is nothing to do.
#[cfg(not(target_os = "linux"))]
pub fn release_startup_code() -> usize {
    0
}
