//! Finding the published table in a mapped ELF file: its section, by name, in the section
//! headers (which `strip` keeps), and where the file's first segment was loaded.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use super::bytes::Bytes;

/// Where the `.tether_inspect` section is in a file: its link-time address, and the link-time
/// address of the file's first loaded segment (to turn the first into a run-time address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub section_addr: u64,
    pub section_size: u64,
    pub first_load_vaddr: u64,
}

fn read_at(file: &mut File, offset: u64, len: usize) -> Option<Vec<u8>> {
    // Section tables are small; a header claiming more is not a file we read.
    if len > 16 << 20 {
        return None;
    }
    let mut bytes = vec![0; len];
    file.seek(SeekFrom::Start(offset)).ok()?;
    file.read_exact(&mut bytes).ok()?;
    Some(bytes)
}

/// Looks for `section` in the 64-bit little-endian ELF file at `path`. `None`: not such a
/// file, or no such section.
pub fn find_section(path: &str, section: &str) -> Option<Found> {
    let mut file = File::open(path).ok()?;
    let bytes = read_at(&mut file, 0, 64)?;
    // ELF magic, 64-bit, little-endian.
    if bytes[..4] != *b"\x7fELF" || bytes[4] != 2 || bytes[5] != 1 {
        return None;
    }
    let header = Bytes(&bytes);
    let phoff = header.u64_at(32)?;
    let shoff = header.u64_at(40)?;
    let phentsize = usize::from(header.u16_at(54)?);
    let phnum = usize::from(header.u16_at(56)?);
    let shentsize = usize::from(header.u16_at(58)?);
    let shnum = usize::from(header.u16_at(60)?);
    let shstrndx = usize::from(header.u16_at(62)?);
    if shentsize < 64 || phentsize < 56 || shstrndx >= shnum {
        return None;
    }
    let sections = read_at(&mut file, shoff, shentsize * shnum)?;
    let entry = |index: usize| Bytes(&sections[index * shentsize..(index + 1) * shentsize]);
    let names = entry(shstrndx);
    let names = read_at(
        &mut file,
        names.u64_at(24)?,
        usize::try_from(names.u64_at(32)?).ok()?,
    )?;
    let wanted = (0..shnum).find(|&index| {
        let name_at = entry(index).u32_at(0).unwrap_or(u32::MAX) as usize;
        names
            .get(name_at..)
            .and_then(|rest| rest.split(|&b| b == 0).next())
            .is_some_and(|name| name == section.as_bytes())
    })?;
    let programs = read_at(&mut file, phoff, phentsize * phnum)?;
    const PT_LOAD: u32 = 1;
    let first_load_vaddr = (0..phnum)
        .map(|index| Bytes(&programs[index * phentsize..(index + 1) * phentsize]))
        .find(|program| program.u32_at(0) == Some(PT_LOAD))
        .and_then(|program| {
            let vaddr = program.u64_at(16)?;
            let offset = program.u64_at(8)?;
            // The address the file's offset 0 is mapped at, at link time.
            vaddr.checked_sub(offset)
        })?;
    Some(Found {
        section_addr: entry(wanted).u64_at(16)?,
        section_size: entry(wanted).u64_at(32)?,
        first_load_vaddr,
    })
}
