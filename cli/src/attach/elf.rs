//! Finding the published table in a mapped ELF file: its section, by name, in the section
//! headers (which `strip` keeps), and where the file's first segment was loaded.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

/// Where the `.tether_inspect` section is in a file: its link-time address, and the link-time
/// address of the file's first loaded segment (to turn the first into a run-time address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub section_addr: u64,
    pub section_size: u64,
    pub first_load_vaddr: u64,
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}
fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}
fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
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
    let header = read_at(&mut file, 0, 64)?;
    // ELF magic, 64-bit, little-endian.
    if header[..4] != *b"\x7fELF" || header[4] != 2 || header[5] != 1 {
        return None;
    }
    let phoff = u64_at(&header, 32)?;
    let shoff = u64_at(&header, 40)?;
    let phentsize = usize::from(u16_at(&header, 54)?);
    let phnum = usize::from(u16_at(&header, 56)?);
    let shentsize = usize::from(u16_at(&header, 58)?);
    let shnum = usize::from(u16_at(&header, 60)?);
    let shstrndx = usize::from(u16_at(&header, 62)?);
    if shentsize < 64 || phentsize < 56 || shstrndx >= shnum {
        return None;
    }
    let sections = read_at(&mut file, shoff, shentsize * shnum)?;
    let entry = |index: usize| &sections[index * shentsize..(index + 1) * shentsize];
    let names = entry(shstrndx);
    let names = read_at(
        &mut file,
        u64_at(names, 24)?,
        usize::try_from(u64_at(names, 32)?).ok()?,
    )?;
    let wanted = (0..shnum).find(|&index| {
        let name_at = u32_at(entry(index), 0).unwrap_or(u32::MAX) as usize;
        names
            .get(name_at..)
            .and_then(|rest| rest.split(|&b| b == 0).next())
            .is_some_and(|name| name == section.as_bytes())
    })?;
    let programs = read_at(&mut file, phoff, phentsize * phnum)?;
    const PT_LOAD: u32 = 1;
    let first_load_vaddr = (0..phnum)
        .map(|index| &programs[index * phentsize..(index + 1) * phentsize])
        .find(|program| u32_at(program, 0) == Some(PT_LOAD))
        .and_then(|program| {
            let vaddr = u64_at(program, 16)?;
            let offset = u64_at(program, 8)?;
            // The address the file's offset 0 is mapped at, at link time.
            vaddr.checked_sub(offset)
        })?;
    Some(Found {
        section_addr: u64_at(entry(wanted), 16)?,
        section_size: u64_at(entry(wanted), 32)?,
        first_load_vaddr,
    })
}
