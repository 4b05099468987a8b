//! `tether top` on a terminal (a pseudo-terminal): keys change the order, `q` quits, and the
//! terminal's settings are restored on the way out.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A new pseudo-terminal: (the controlling side, the terminal the program gets).
fn pty() -> (File, File) {
    // SAFETY: plain calls on a descriptor this function owns; each result is checked.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(
            master >= 0,
            "posix_openpt: {}",
            std::io::Error::last_os_error()
        );
        assert_eq!(libc::grantpt(master), 0);
        assert_eq!(libc::unlockpt(master), 0);
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(libc::ptsname_r(master, name.as_mut_ptr(), name.len()), 0);
        let slave = libc::open(name.as_ptr(), libc::O_RDWR | libc::O_NOCTTY);
        assert!(
            slave >= 0,
            "open the pty: {}",
            std::io::Error::last_os_error()
        );
        (
            File::from(OwnedFd::from_raw_fd(master)),
            File::from(OwnedFd::from_raw_fd(slave)),
        )
    }
}

fn local_flags(terminal: &File) -> libc::tcflag_t {
    use std::os::fd::AsRawFd;
    // SAFETY: a zeroed termios is a valid value; tcgetattr fills it from an open descriptor.
    unsafe {
        let mut settings: libc::termios = std::mem::zeroed();
        assert_eq!(libc::tcgetattr(terminal.as_raw_fd(), &mut settings), 0);
        settings.c_lflag
    }
}

#[cfg_attr(miri, ignore = "runs a process on a pseudo-terminal")]
#[test]
fn keys_sort_q_quits_and_the_terminal_is_restored() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/demo.json");
    let (mut master, slave) = pty();
    let before = local_flags(&slave);
    assert_ne!(before & libc::ECHO, 0, "a new terminal echoes");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["top", "--load", fixture, "--interval", "100"])
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::piped())
        .spawn()
        .expect("tether top starts");
    let screen = Arc::new(Mutex::new(String::new()));
    let mut reader = master.try_clone().unwrap();
    let seen = screen.clone();
    // Ends when the last descriptor of the terminal closes (the read fails).
    std::thread::spawn(move || {
        let mut buf = [0; 4096];
        while let Ok(n @ 1..) = reader.read(&mut buf) {
            seen.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let wait_for = |text: &str| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !screen.lock().unwrap().contains(text) {
            assert!(
                Instant::now() < deadline,
                "{text:?} never drawn: {:?}",
                screen.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_for("sorted by busy");
    assert_eq!(
        local_flags(&slave) & (libc::ECHO | libc::ICANON),
        0,
        "raw while it runs"
    );
    master.write_all(b"a").unwrap();
    wait_for("sorted by age");
    master.write_all(b"p").unwrap();
    wait_for("sorted by polls");
    master.write_all(b"q").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "`q` did not quit");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    assert_eq!(
        local_flags(&slave),
        before,
        "the terminal's settings are back"
    );
    wait_for("\x1b[?25h"); // and the cursor shows again
}
