//! Walking the target's published table into a [`Snapshot`].

use std::collections::HashMap;
use std::io;
use std::mem::{offset_of, size_of};

use tether::__inspect::{Holder, LAYOUT, LoopRecord, MAGIC, Published, RemoteWait, field};

use super::AttachError;
use super::bytes::Bytes;
use super::process::{self, Memory, monotonic_ns};
use crate::model::{self, Awaiting, LoopInfo, Owner, Snapshot, State, Task};

/// The longest name or file name read; anything longer is a torn read.
const MAX_TEXT: u64 = 4096;
/// The most slots of one table read (a torn length is not followed).
const MAX_SLOTS: u64 = 64 << 20;

fn read_error(pid: u32, what: &'static str, source: io::Error) -> AttachError {
    match source.raw_os_error() {
        Some(libc::EPERM | libc::EACCES) => AttachError::Denied { pid },
        Some(libc::ESRCH) => AttachError::NoProcess { pid },
        _ => AttachError::Read { pid, what, source },
    }
}

pub fn snapshot(pid: u32, table: u64, switch_on: bool) -> Result<Snapshot, AttachError> {
    let started = monotonic_ns();
    let memory = Memory { pid };
    let raw = memory
        .read(table, size_of::<Published>())
        .map_err(|error| read_error(pid, "cannot read its tether table", error))?;
    let head = Bytes(&raw);
    let version_len = (head.u32(offset_of!(Published, version_len)) as usize).min(32);
    let version_at = offset_of!(Published, version);
    let theirs = String::from_utf8_lossy(&raw[version_at..version_at + version_len]).into_owned();
    let their_layout = head.u32(offset_of!(Published, layout));
    if raw[..8] != MAGIC
        || their_layout != LAYOUT
        || head.u32(offset_of!(Published, size)) as usize != size_of::<Published>()
    {
        return Err(AttachError::Version {
            pid,
            theirs: if raw[..6] == MAGIC[..6] {
                theirs
            } else {
                "unknown".into()
            },
            their_layout,
            ours: env!("CARGO_PKG_VERSION"),
            our_layout: LAYOUT,
        });
    }
    if head.u64(offset_of!(Published, ready)) == 0 {
        return Err(AttachError::NotStarted { pid });
    }
    let fields: Vec<usize> = (0..field::COUNT)
        .map(|index| head.u64(offset_of!(Published, fields) + 8 * index) as usize)
        .collect();
    let switched_on = if switch_on {
        turn_on(&memory, table, &head)
            .map_err(|error| read_error(pid, "cannot switch recording on", error))?
    } else {
        head.u64(offset_of!(Published, switched_on_ns))
    };
    let recording_since = Some(switched_on).filter(|&since| since != 0);
    // Waits are recorded from the program's start if a loop asked for it itself (the low half
    // of `recording` counts such loops).
    let program_records = head.u64(offset_of!(Published, recording)) as u32 != 0;

    let loops = read_loops(&memory, table)
        .map_err(|error| read_error(pid, "cannot read its list of loops", error))?;
    let taken = monotonic_ns();
    let reader = Reader {
        memory,
        fields: &fields,
    };

    // Every listed task: its header's address, creation stamp and loop.
    let mut slots: Vec<(u64, u64, u64)> = Vec::new();
    for lp in &loops {
        for &view in &lp.tables {
            slots.extend(
                reader
                    .slots(view)
                    .into_iter()
                    .map(|(header, created)| (header, created, lp.id)),
            );
        }
    }
    slots.sort_unstable();
    slots.dedup_by_key(|slot| slot.0);
    let headers = reader.headers(&slots);
    let by_address: HashMap<u64, u64> = headers.iter().map(|h| (h.address, h.id)).collect();
    let holders = reader.holders(&head);
    let waits = reader.waits(&head, &holders);
    let locations = reader.locations(headers.iter().map(|h| h.location));

    let mut tasks: Vec<Task> = headers
        .iter()
        .map(|h| Task {
            id: h.id,
            name: h.name.clone().unwrap_or_else(|| format!("Task-{}", h.id)),
            state: State::Waiting,
            cancel_requested: h.state & (1 | 1 << 6) != 0,
            loop_id: h.loop_id,
            owner: match h.owner_kind {
                1 => Owner::Group {
                    group: h.owner_group,
                    runner: (h.owner_runner != 0).then_some(h.owner_runner),
                },
                2 => Owner::Set,
                _ => Owner::Handle,
            },
            parent: (h.parent != 0).then_some(h.parent),
            created_at: locations
                .get(&h.location)
                .cloned()
                .unwrap_or(model::Location {
                    file: "<unknown>".into(),
                    line: 0,
                    column: 0,
                }),
            age_ns: (h.created_ns != 0).then(|| taken.saturating_sub(h.created_ns)),
            polls: recording_since.map(|_| h.polls),
            busy_ns: recording_since.map(|_| h.busy_ns),
            awaiting: waits.get(&h.id).cloned(),
        })
        .collect();
    tasks.sort_unstable_by_key(|task| task.id);

    let mut loop_infos = Vec::new();
    for lp in &loops {
        let running = lp
            .running
            .and_then(|address| by_address.get(&address).copied());
        if let Some(id) = running {
            mark_running(&mut tasks, id);
        }
        loop_infos.push(LoopInfo {
            id: lp.id,
            runtime: (lp.runtime != 0).then_some(lp.runtime),
            worker: (lp.worker != u64::MAX).then_some(lp.worker as u32),
            thread_id: lp.thread_id as u32,
            thread_name: process::thread_name(pid, lp.thread_id),
            running,
            running_for_ns: running.map(|_| taken.saturating_sub(lp.recent_ns)),
        });
    }
    loop_infos.sort_unstable_by_key(|lp| lp.id);

    Ok(Snapshot {
        schema: model::SCHEMA.to_owned(),
        pid,
        command: process::command(pid),
        tether_version: theirs,
        taken_ns: taken,
        read_ns: monotonic_ns().saturating_sub(started),
        // A program that records waits itself does so from its loops' start.
        waits_recorded_since_ns: if program_records {
            loops
                .iter()
                .map(|lp| lp.started_ns)
                .min()
                .or(recording_since)
        } else {
            recording_since
        },
        polls_counted_since_ns: recording_since,
        loops: loop_infos,
        tasks,
    })
}

/// Marks task `id` as running, and the tasks running the groups it is a child of (a group's
/// children are polled inside their runner's poll).
fn mark_running(tasks: &mut [Task], mut id: u64) {
    // A bounded walk: a torn read could make a loop of runners.
    for _ in 0..tasks.len() {
        let Ok(at) = tasks.binary_search_by_key(&id, |task| task.id) else {
            return;
        };
        tasks[at].state = State::Running;
        match tasks[at].owner {
            Owner::Group {
                runner: Some(runner),
                ..
            } => id = runner,
            _ => return,
        }
    }
}

/// Sets the two switches (record waits, count polls) if no tool has yet, and returns since
/// when they are on.
fn turn_on(memory: &Memory, table: u64, head: &Bytes<'_>) -> io::Result<u64> {
    let on = 1u32.to_le_bytes();
    let mut since = head.u64(offset_of!(Published, switched_on_ns));
    if since == 0 {
        since = monotonic_ns();
        memory.write(
            table + offset_of!(Published, switched_on_ns) as u64,
            &since.to_le_bytes(),
        )?;
    }
    // The tool's half of `recording` (its high 32 bits), and `count_polls`.
    let tool_half =
        offset_of!(Published, recording) + if cfg!(target_endian = "little") { 4 } else { 0 };
    for switch in [tool_half, offset_of!(Published, count_polls)] {
        if head.u32(switch) == 0 {
            memory.write(table + switch as u64, &on)?;
        }
    }
    Ok(since)
}

/// One loop as its record says.
struct LoopRead {
    id: u64,
    runtime: u64,
    worker: u64,
    thread_id: u64,
    started_ns: u64,
    recent_ns: u64,
    /// The address of the task being polled, if one is.
    running: Option<u64>,
    tables: Vec<u64>,
}

/// The live loops: the list is read again if it changed meanwhile (its generation is odd
/// while it changes).
fn read_loops(memory: &Memory, table: u64) -> io::Result<Vec<LoopRead>> {
    let generation_at = table + offset_of!(Published, loops_generation) as u64;
    let generation = || -> io::Result<u64> { Ok(Bytes(&memory.read(generation_at, 8)?).u64(0)) };
    for _ in 0..100 {
        let before = generation()?;
        if before % 2 == 1 {
            std::thread::yield_now();
            continue;
        }
        let pair = memory.read(table + offset_of!(Published, loops) as u64, 16)?;
        let (list, len) = (Bytes(&pair).u64(0), Bytes(&pair).u64(8).min(1 << 16));
        let addresses = if len == 0 {
            Vec::new()
        } else {
            memory.read(list, len as usize * 8)?
        };
        let records: Vec<u64> = addresses
            .chunks_exact(8)
            .map(|word| Bytes(word).u64(0))
            .collect();
        let read = memory.read_many(&records, size_of::<LoopRecord>());
        if generation()? != before {
            continue;
        }
        let mut loops = Vec::new();
        for bytes in read.into_iter().flatten() {
            let record = Bytes(&bytes);
            if record.u64(offset_of!(LoopRecord, magic)) != LoopRecord::MAGIC {
                continue;
            }
            let running_cell = record.u64(offset_of!(LoopRecord, running));
            let running = memory
                .read(running_cell, 8)
                .ok()
                .map(|word| Bytes(&word).u64(0))
                .filter(|&address| address != 0);
            let tables_at = offset_of!(LoopRecord, tables);
            loops.push(LoopRead {
                id: record.u64(offset_of!(LoopRecord, id)),
                runtime: record.u64(offset_of!(LoopRecord, runtime)),
                worker: record.u64(offset_of!(LoopRecord, worker)),
                thread_id: record.u64(offset_of!(LoopRecord, thread_id)),
                started_ns: record.u64(offset_of!(LoopRecord, started_ns)),
                recent_ns: record.u64(offset_of!(LoopRecord, recent_ns)),
                running,
                tables: [record.u64(tables_at), record.u64(tables_at + 8)]
                    .into_iter()
                    .filter(|&view| view != 0)
                    .collect(),
            });
        }
        return Ok(loops);
    }
    Err(io::Error::other("the list of loops kept changing"))
}

/// What one header (and its extras) says.
struct HeaderRead {
    address: u64,
    loop_id: u64,
    created_ns: u64,
    id: u64,
    parent: u64,
    owner_kind: u8,
    owner_group: u64,
    owner_runner: u64,
    location: u64,
    state: u8,
    name: Option<String>,
    polls: u64,
    busy_ns: u64,
}

struct Reader<'a> {
    memory: Memory,
    fields: &'a [usize],
}

impl Reader<'_> {
    fn field(&self, index: usize) -> usize {
        self.fields[index]
    }

    /// The occupied slots of the table whose view is at `view`: (header address, created).
    fn slots(&self, view: u64) -> Vec<(u64, u64)> {
        let Ok(pair) = self.memory.read(view, 16) else {
            return Vec::new();
        };
        let (at, len) = (Bytes(&pair).u64(0), Bytes(&pair).u64(8).min(MAX_SLOTS));
        let size = self.field(field::SLOT_SIZE);
        if len == 0 || size == 0 {
            return Vec::new();
        }
        let Ok(bytes) = self.memory.read(at, len as usize * size) else {
            return Vec::new();
        };
        bytes
            .chunks_exact(size)
            .map(|slot| {
                let slot = Bytes(slot);
                (
                    slot.u64(self.field(field::SLOT_HEADER)),
                    // µs above the low bit (which is the owner's, not time).
                    (slot.u64(self.field(field::SLOT_CREATED)) >> 1) * 1000,
                )
            })
            .filter(|&(header, _)| header != 0)
            .collect()
    }

    /// The headers of `slots` that still make sense.
    fn headers(&self, slots: &[(u64, u64, u64)]) -> Vec<HeaderRead> {
        let offsets = [
            field::HEADER_ID,
            field::HEADER_PARENT,
            field::HEADER_OWNER_GROUP,
            field::HEADER_OWNER_RUNNER,
            field::HEADER_LOCATION,
            field::HEADER_EXTRAS,
            // One byte each, but a word is as cheap to read.
            field::HEADER_OWNER_KIND,
            field::HEADER_STATE,
        ];
        let len = offsets
            .iter()
            .map(|&f| self.field(f) + 8)
            .max()
            .unwrap_or(8);
        let addresses: Vec<u64> = slots.iter().map(|slot| slot.0).collect();
        let read = self.memory.read_many(&addresses, len);
        let mut headers: Vec<HeaderRead> = Vec::with_capacity(slots.len());
        let mut extras: Vec<(usize, u64)> = Vec::new();
        for (&(address, created_ns, loop_id), bytes) in slots.iter().zip(read) {
            let Some(bytes) = bytes else { continue };
            let h = Bytes(&bytes);
            let header = HeaderRead {
                address,
                loop_id,
                created_ns,
                id: h.u64(self.field(field::HEADER_ID)),
                parent: h.u64(self.field(field::HEADER_PARENT)),
                owner_kind: h.u8(self.field(field::HEADER_OWNER_KIND)),
                owner_group: h.u64(self.field(field::HEADER_OWNER_GROUP)),
                owner_runner: h.u64(self.field(field::HEADER_OWNER_RUNNER)),
                location: h.u64(self.field(field::HEADER_LOCATION)),
                state: h.u8(self.field(field::HEADER_STATE)),
                name: None,
                polls: 0,
                busy_ns: 0,
            };
            // A slot freed and its header's memory reused while the tool read it.
            if header.id == 0 || header.owner_kind > 2 || header.location == 0 {
                continue;
            }
            let extra = h.u64(self.field(field::HEADER_EXTRAS));
            if extra != 0 {
                extras.push((headers.len(), extra));
            }
            headers.push(header);
        }
        self.fill_extras(&mut headers, &extras);
        headers
    }

    /// Names, polls and busy time, from the extras of the headers that have them.
    fn fill_extras(&self, headers: &mut [HeaderRead], extras: &[(usize, u64)]) {
        let data = self.field(field::EXTRAS_DATA);
        let name = self.field(field::EXTRAS_NAME);
        let string =
            [field::STRING_PTR, field::STRING_LEN, field::STRING_CAP].map(|f| self.field(f));
        let len = [
            name + 24,
            self.field(field::EXTRAS_POLLS) + 8,
            self.field(field::EXTRAS_BUSY) + 8,
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        let addresses: Vec<u64> = extras.iter().map(|&(_, at)| at + data as u64).collect();
        let read = self.memory.read_many(&addresses, len);
        let names_published = self.field(field::STRING_OPTION_NICHE) == 1;
        let mut wanted: Vec<(usize, u64, u64)> = Vec::new();
        for (&(index, _), bytes) in extras.iter().zip(read) {
            let Some(bytes) = bytes else { continue };
            let e = Bytes(&bytes);
            headers[index].polls = e.u64(self.field(field::EXTRAS_POLLS));
            headers[index].busy_ns = e.u64(self.field(field::EXTRAS_BUSY));
            let capacity = e.u64(name + string[2]);
            if names_published && capacity <= isize::MAX as u64 {
                let (at, len) = (e.u64(name + string[0]), e.u64(name + string[1]));
                if at != 0 && len <= MAX_TEXT && len <= capacity {
                    wanted.push((index, at, len));
                }
            }
        }
        for (index, at, len) in wanted {
            if let Some(text) = self.text(at, len) {
                headers[index].name = Some(text);
            }
        }
    }

    /// `len` bytes of UTF-8 at `at`, if they read and are text.
    fn text(&self, at: u64, len: u64) -> Option<String> {
        if len > MAX_TEXT {
            return None;
        }
        if len == 0 {
            return Some(String::new());
        }
        let bytes = self.memory.read(at, len as usize).ok()?;
        String::from_utf8(bytes).ok()
    }

    /// The creation sites at `addresses`, each read once.
    fn locations(&self, addresses: impl Iterator<Item = u64>) -> HashMap<u64, model::Location> {
        let mut unique: Vec<u64> = addresses.collect();
        unique.sort_unstable();
        unique.dedup();
        let offsets = [
            self.field(field::LOCATION_FILE_PTR) + 8,
            self.field(field::LOCATION_FILE_LEN) + 8,
            self.field(field::LOCATION_LINE) + 4,
            self.field(field::LOCATION_COLUMN) + 4,
        ];
        let len = offsets.into_iter().max().unwrap_or(24);
        let read = self.memory.read_many(&unique, len);
        let mut files: HashMap<(u64, u64), String> = HashMap::new();
        let mut found = HashMap::new();
        for (&address, bytes) in unique.iter().zip(read) {
            let Some(bytes) = bytes else { continue };
            let l = Bytes(&bytes);
            let file = (
                l.u64(self.field(field::LOCATION_FILE_PTR)),
                l.u64(self.field(field::LOCATION_FILE_LEN)),
            );
            let name = match files.get(&file) {
                Some(name) => name.clone(),
                None => {
                    let Some(name) = self.text(file.0, file.1) else {
                        continue;
                    };
                    files.insert(file, name.clone());
                    name
                }
            };
            found.insert(
                address,
                model::Location {
                    file: name,
                    line: l.u32(self.field(field::LOCATION_LINE)),
                    column: l.u32(self.field(field::LOCATION_COLUMN)),
                },
            );
        }
        found
    }

    /// Who holds each held `Lock`, by the lock's address.
    fn holders(&self, head: &Bytes<'_>) -> HashMap<u64, u64> {
        let at = head.u64(offset_of!(Published, holders));
        let len = head.u64(offset_of!(Published, holders_len)).min(1 << 20);
        if at == 0 || len == 0 {
            return HashMap::new();
        }
        let Ok(bytes) = self.memory.read(at, len as usize * size_of::<Holder>()) else {
            return HashMap::new();
        };
        bytes
            .chunks_exact(size_of::<Holder>())
            .map(|holder| {
                let holder = Bytes(holder);
                (
                    holder.u64(offset_of!(Holder, object)),
                    holder.u64(offset_of!(Holder, task)),
                )
            })
            .filter(|&(_, task)| task != 0)
            .collect()
    }

    /// Each waiting task's latest recorded wait.
    fn waits(&self, head: &Bytes<'_>, holders: &HashMap<u64, u64>) -> HashMap<u64, Awaiting> {
        let at = head.u64(offset_of!(Published, waits));
        let len = head.u64(offset_of!(Published, waits_len)).min(16 << 20);
        if at == 0 || len == 0 {
            return HashMap::new();
        }
        let size = size_of::<RemoteWait>();
        let Ok(bytes) = self.memory.read(at, len as usize * size) else {
            return HashMap::new();
        };
        let mut latest: HashMap<u64, (u64, Awaiting)> = HashMap::new();
        let now = monotonic_ns();
        for wait in bytes.chunks_exact(size) {
            let w = Bytes(wait);
            let task = w.u64(offset_of!(RemoteWait, task));
            let seq = w.u64(offset_of!(RemoteWait, seq));
            if task == 0 || latest.get(&task).is_some_and(|&(newer, _)| newer > seq) {
                continue;
            }
            if let Some(what) = self.decode(&w, wait, holders, now) {
                latest.insert(task, (seq, what));
            }
        }
        latest
            .into_iter()
            .map(|(task, (_, what))| (task, what))
            .collect()
    }

    fn decode(
        &self,
        w: &Bytes<'_>,
        raw: &[u8],
        holders: &HashMap<u64, u64>,
        now: u64,
    ) -> Option<Awaiting> {
        let id = w.u64(offset_of!(RemoteWait, id));
        let detail = w.u32(offset_of!(RemoteWait, detail));
        let text = || {
            let at = w.u64(offset_of!(RemoteWait, text));
            (at != 0)
                .then(|| self.text(at, w.u64(offset_of!(RemoteWait, text_len))))
                .flatten()
        };
        let inline = |field: usize, len: usize| {
            let len = usize::from(w.u8(len)).min(64);
            String::from_utf8_lossy(&raw[field..field + len]).into_owned()
        };
        let local = inline(
            offset_of!(RemoteWait, local),
            offset_of!(RemoteWait, local_len),
        );
        let peer = inline(
            offset_of!(RemoteWait, peer),
            offset_of!(RemoteWait, peer_len),
        );
        Some(match w.u32(offset_of!(RemoteWait, kind)) {
            RemoteWait::TASK => Awaiting::Task { task: id },
            RemoteWait::GROUP => Awaiting::Group { group: id },
            RemoteWait::SYNC => {
                let sync = [
                    "lock",
                    "semaphore",
                    "event",
                    "condition",
                    "barrier",
                    "queue",
                ]
                .get(detail as usize)
                .copied()
                .unwrap_or("primitive");
                Awaiting::Sync {
                    sync: sync.to_owned(),
                    name: text(),
                    object: id,
                    held_by: if detail == 0 {
                        holders.get(&id).copied()
                    } else {
                        None
                    },
                }
            }
            RemoteWait::PROMISE => Awaiting::Promise,
            RemoteWait::TIMER => Awaiting::Timer {
                due_in_ns: (w.u64(offset_of!(RemoteWait, deadline_ns)) as i128 - now as i128)
                    .clamp(i64::MIN.into(), i64::MAX.into()) as i64,
            },
            RemoteWait::IO => Awaiting::Io {
                direction: if detail == 0 { "read" } else { "write" }.to_owned(),
                resource: text().unwrap_or_default(),
                local: (!local.is_empty()).then_some(local),
                peer: (!peer.is_empty()).then_some(peer),
                fd: id as i32,
            },
            RemoteWait::PROCESS => Awaiting::Process {
                pid: id as u32,
                command: local,
            },
            _ => return None,
        })
    }
}
