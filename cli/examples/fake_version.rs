//! A program that carries a `.tether_inspect` table of another layout, as a program built
//! with another tether version would: the tool must refuse it with a clear message. Runs until
//! killed.

/// The table's first bytes as a future layout would have them: the magic, layout 999, then a
/// size and the version "9.9.9" where this layout keeps them.
#[used]
#[unsafe(link_section = ".tether_inspect")]
static TABLE: [u8; 4096] = table();

const fn table() -> [u8; 4096] {
    let mut bytes = [0; 4096];
    let magic = tether::__inspect::MAGIC;
    let mut at = 0;
    while at < 8 {
        bytes[at] = magic[at];
        at += 1;
    }
    // layout (u32 at 8) = 999, size (u32 at 12) = 4096
    bytes[8] = 0xe7;
    bytes[9] = 0x03;
    bytes[13] = 0x10;
    let version = b"9.9.9";
    let mut at = 0;
    while at < version.len() {
        bytes[16 + at] = version[at];
        at += 1;
    }
    bytes[48] = version.len() as u8;
    bytes
}

fn main() {
    // Read the table once, so that the linker keeps it whatever it decides about `#[used]`.
    assert_eq!(std::hint::black_box(&TABLE)[..8], tether::__inspect::MAGIC);
    println!("ready {}", std::process::id());
    std::thread::sleep(std::time::Duration::from_secs(60));
}
