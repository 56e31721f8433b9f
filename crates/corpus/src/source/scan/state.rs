//! The byte-level state machine of the record scanner. It finds where records start and
//! end, tracks strings and brackets, searches the first object's keys for an `items`
//! wrapper, and decides what the end of the text means. [`super::RecordScanner`] feeds it
//! chunks of the reader's buffer.

use std::io;

use memchr::memchr3;

use super::{BrokenKind, Layout, Scanned, TextPosition};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Depth 0, between top-level values.
    TopLevel,
    /// Inside a list of records (`items` or a top-level array), between elements.
    Between,
    /// Inside a record.
    InRecord,
    /// Inside an element that is not an object or array.
    Scalar,
    /// Inside the `items` wrapper object after its array closed.
    WrapperTail,
    /// Skipping the rest of a line after an unexpected character.
    SkipLine,
    /// Finished: the text ended or reading failed.
    Done,
}

/// State of the key search in the first top-level object, which decides whether the file is
/// an `{"items": [...]}` wrapper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyWatch {
    Off,
    ExpectKey,
    InKey,
    ExpectColon,
    ExpectValue,
    InValue,
}

const CLASS_PLAIN: u8 = 0;
const CLASS_QUOTE: u8 = 1;
const CLASS_OPEN: u8 = 2;
const CLASS_CLOSE: u8 = 3;
const CLASS_NEWLINE: u8 = 4;

/// Byte classes for the scan outside strings: everything but quotes, brackets and newlines is
/// skipped without a branch per kind.
static CLASS: [u8; 256] = {
    let mut table = [CLASS_PLAIN; 256];
    table[b'"' as usize] = CLASS_QUOTE;
    table[b'{' as usize] = CLASS_OPEN;
    table[b'[' as usize] = CLASS_OPEN;
    table[b'}' as usize] = CLASS_CLOSE;
    table[b']' as usize] = CLASS_CLOSE;
    table[b'\n' as usize] = CLASS_NEWLINE;
    table
};

pub(super) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The outcome of processing one chunk.
pub(super) enum Stop {
    /// The chunk was used up; read more.
    NeedMore,
    /// A record starts at `index` of the chunk and the fast path may parse it.
    RecordStart { index: usize },
    /// A record or broken span ended; `consumed` bytes of the chunk were used.
    Emit { consumed: usize, broken: Option<BrokenKind> },
}

/// The resumable state of a [`RecordScanner`], kept apart from the reader so that a chunk
/// borrowed from the reader can be processed while the state changes.
pub(super) struct ScanState {
    max_record_bytes: usize,
    /// Stop at each record start so that the caller's parser can try the record in place.
    pub(super) fast_path: bool,
    pub(super) layout: Option<Layout>,
    pub(super) phase: Phase,
    depth: u32,
    /// Depth at which records are elements: 0 at top level, 1 in a top-level array, 2 in items.
    base_depth: u32,
    in_string: bool,
    escape: bool,
    key_watch: KeyWatch,
    key: Vec<u8>,
    /// The current record's text (or its first `max_record_bytes` bytes).
    pub(super) record: Vec<u8>,
    pub(super) record_start: TextPosition,
    record_too_large: bool,
    /// 1-based number of the line being scanned.
    line: u64,
    /// Offset of the first byte of the current line.
    line_start: u64,
    /// Offset of the first byte of the current chunk.
    pub(super) chunk_offset: u64,
    pub(super) at_file_start: bool,
}

impl ScanState {
    /// Creates the state for the start of a text.
    pub(super) fn new(max_record_bytes: usize) -> ScanState {
        ScanState {
            max_record_bytes,
            fast_path: false,
            layout: None,
            phase: Phase::TopLevel,
            depth: 0,
            base_depth: 0,
            in_string: false,
            escape: false,
            key_watch: KeyWatch::Off,
            key: Vec::new(),
            record: Vec::new(),
            record_start: TextPosition::default(),
            record_too_large: false,
            line: 1,
            line_start: 0,
            chunk_offset: 0,
            at_file_start: true,
        }
    }

    /// Handles the end of the text: clean between top-level values, truncated elsewhere.
    pub(super) fn finish_at_end(&mut self) -> Option<Scanned<'_>> {
        match self.phase {
            Phase::TopLevel | Phase::Done => {
                self.phase = Phase::Done;
                None
            }
            Phase::SkipLine => {
                // Garbage on the last line without a final newline.
                self.phase = Phase::Done;
                let kind = BrokenKind::UnexpectedCharacter(self.record.first().copied().unwrap_or(0));
                Some(Scanned::Broken(&self.record, self.record_start, kind))
            }
            _ => Some(self.finish(None)),
        }
    }

    /// Ends the scan after a read error or an early end of text.
    pub(super) fn finish(&mut self, error: Option<io::Error>) -> Scanned<'_> {
        let phase = self.phase;
        self.phase = Phase::Done;
        match (phase, error) {
            (Phase::TopLevel, Some(error)) => Scanned::ReadFailed(error),
            (Phase::InRecord | Phase::Scalar | Phase::SkipLine, error) => {
                Scanned::Truncated(&self.record, self.record_start, error)
            }
            (_, error) => {
                // Inside the items wrapper but between records: nothing partial to return.
                self.record.clear();
                let position = self.current_position(0);
                Scanned::Truncated(&self.record, position, error)
            }
        }
    }

    fn current_position(&self, index: usize) -> TextPosition {
        let offset = self.chunk_offset + index as u64;
        TextPosition { line: self.line, column: offset - self.line_start + 1, offset }
    }

    fn new_line(&mut self, index: usize) {
        self.line += 1;
        self.line_start = self.chunk_offset + index as u64 + 1;
    }

    /// Accepts a record that the fast path parsed at `chunk[start..end]`: sets its position
    /// and counts the lines inside it.
    pub(super) fn take_parsed(&mut self, chunk: &[u8], start: usize, end: usize) {
        self.record_start = self.current_position(start);
        let text = &chunk[start..end];
        // `count` on memchr's iterator is vectorised; records hold many newlines when
        // pretty-printed.
        self.line += memchr::memchr_iter(b'\n', text).count() as u64;
        let last_newline = memchr::memrchr(b'\n', text);
        if let Some(newline) = last_newline {
            self.line_start = self.chunk_offset + (start + newline) as u64 + 1;
        }
        if self.layout.is_none() {
            self.layout = Some(if last_newline.is_none() { Layout::Lines } else { Layout::Values });
        }
    }

    /// Starts scanning the record at `index` byte by byte, after the fast path declined it.
    pub(super) fn begin_slow_record(&mut self, index: usize) {
        self.begin_record(index);
        self.phase = Phase::InRecord;
    }

    fn begin_record(&mut self, index: usize) {
        self.record.clear();
        self.record_too_large = false;
        self.record_start = self.current_position(index);
    }

    /// Appends `chunk[from..to]` to the record, unless it already passed the size limit.
    fn keep(&mut self, chunk: &[u8], from: usize, to: usize) {
        if self.record_too_large || from >= to {
            return;
        }
        let room = self.max_record_bytes.saturating_sub(self.record.len());
        let wanted = to - from;
        if wanted > room {
            self.record.extend_from_slice(&chunk[from..from + room]);
            self.record_too_large = true;
        } else {
            self.record.extend_from_slice(&chunk[from..to]);
        }
    }

    /// Runs the state machine over `chunk[index..]` until the chunk is used up or a record
    /// (or broken span) is complete.
    pub(super) fn process(&mut self, chunk: &[u8], mut index: usize) -> Stop {
        loop {
            if index >= chunk.len() {
                return Stop::NeedMore;
            }
            match self.phase {
                Phase::TopLevel => {
                    let Some(found) = self.skip_whitespace(chunk, index) else {
                        return Stop::NeedMore;
                    };
                    index = found;
                    match chunk[index] {
                        b'{' => {
                            self.base_depth = 0;
                            self.depth = 0;
                            // Watch the keys of the first object, and of any later top-level
                            // object in an items file (files joined with `cat`).
                            let watch_keys = matches!(self.layout, None | Some(Layout::Items));
                            if self.fast_path && !watch_keys {
                                return Stop::RecordStart { index };
                            }
                            self.begin_record(index);
                            self.phase = Phase::InRecord;
                            if watch_keys {
                                self.key_watch = KeyWatch::ExpectKey;
                            }
                        }
                        b'[' => {
                            self.layout.get_or_insert(Layout::Values);
                            self.depth = 1;
                            self.base_depth = 1;
                            self.phase = Phase::Between;
                            index += 1;
                        }
                        _ => {
                            self.begin_record(index);
                            self.phase = Phase::SkipLine;
                        }
                    }
                }
                Phase::Between => {
                    let Some(found) = self.skip_separators(chunk, index) else {
                        return Stop::NeedMore;
                    };
                    index = found;
                    match chunk[index] {
                        b']' | b'}' => {
                            self.depth -= 1;
                            index += 1;
                            self.phase = if self.depth == 0 { Phase::TopLevel } else { Phase::WrapperTail };
                            self.base_depth = 0;
                        }
                        b'{' if self.fast_path => return Stop::RecordStart { index },
                        b'{' | b'[' => {
                            self.begin_record(index);
                            self.phase = Phase::InRecord;
                        }
                        _ => {
                            self.begin_record(index);
                            self.phase = Phase::Scalar;
                        }
                    }
                }
                Phase::InRecord => {
                    if self.key_watch != KeyWatch::Off {
                        match self.scan_first_value(chunk, index) {
                            Ok(stop) => return stop,
                            Err(resume) => {
                                index = resume;
                                continue;
                            }
                        }
                    }
                    return self.scan_record(chunk, index);
                }
                Phase::Scalar => return self.scan_scalar(chunk, index),
                Phase::WrapperTail => match self.skip_wrapper_tail(chunk, index) {
                    Some(resume) => index = resume,
                    None => return Stop::NeedMore,
                },
                Phase::SkipLine => {
                    let end = memchr::memchr(b'\n', &chunk[index..]).map(|k| index + k);
                    let stop_at = end.unwrap_or(chunk.len());
                    self.keep(chunk, index, stop_at);
                    let Some(end) = end else {
                        return Stop::NeedMore;
                    };
                    self.new_line(end);
                    self.phase = Phase::TopLevel;
                    let first = self.record.first().copied().unwrap_or(0);
                    return Stop::Emit {
                        consumed: end + 1,
                        broken: Some(BrokenKind::UnexpectedCharacter(first)),
                    };
                }
                Phase::Done => return Stop::NeedMore,
            }
        }
    }

    /// Skips whitespace (counting lines); returns the index of the next other byte.
    fn skip_whitespace(&mut self, chunk: &[u8], mut index: usize) -> Option<usize> {
        while index < chunk.len() {
            match chunk[index] {
                b'\n' => self.new_line(index),
                b' ' | b'\t' | b'\r' => {}
                _ => return Some(index),
            }
            index += 1;
        }
        None
    }

    /// Skips whitespace and commas between elements of a record list.
    fn skip_separators(&mut self, chunk: &[u8], mut index: usize) -> Option<usize> {
        while index < chunk.len() {
            match chunk[index] {
                b'\n' => self.new_line(index),
                b' ' | b'\t' | b'\r' | b',' => {}
                _ => return Some(index),
            }
            index += 1;
        }
        None
    }

    /// Scans inside a record until its brackets balance. This is the hot loop: strings are
    /// skipped with `memchr3`, other bytes through the class table.
    fn scan_record(&mut self, chunk: &[u8], mut index: usize) -> Stop {
        let from = index;
        let length = chunk.len();
        loop {
            if self.in_string {
                if self.escape {
                    self.escape = false;
                    // A backslash escapes no line feed in JSON. Left to the search below, the
                    // line feed ends the string, so a line cut after a backslash stays one line.
                    if chunk[index] != b'\n' {
                        index += 1;
                        if index >= length {
                            break;
                        }
                    }
                }
                match memchr3(b'"', b'\\', b'\n', &chunk[index..]) {
                    None => break,
                    Some(k) => {
                        let at = index + k;
                        index = at + 1;
                        match chunk[at] {
                            b'"' => self.in_string = false,
                            b'\\' => self.escape = true,
                            _ => {
                                // A raw newline cannot occur inside a JSON string; ending the
                                // string here keeps one bad record from swallowing the next.
                                self.in_string = false;
                                self.new_line(at);
                                if self.layout == Some(Layout::Lines) {
                                    return self.break_line(chunk, from, at);
                                }
                            }
                        }
                        if index >= length {
                            break;
                        }
                    }
                }
                continue;
            }

            while index < length {
                let byte = chunk[index];
                match CLASS[byte as usize] {
                    CLASS_PLAIN => index += 1,
                    CLASS_QUOTE => {
                        self.in_string = true;
                        index += 1;
                        break;
                    }
                    CLASS_OPEN => {
                        self.depth += 1;
                        index += 1;
                    }
                    CLASS_CLOSE => {
                        self.depth -= 1;
                        index += 1;
                        if self.depth == self.base_depth {
                            self.keep(chunk, from, index);
                            return self.end_record(index);
                        }
                    }
                    _ => {
                        self.new_line(index);
                        if self.layout == Some(Layout::Lines) {
                            return self.break_line(chunk, from, index);
                        }
                        index += 1;
                    }
                }
            }
            if index >= length {
                break;
            }
        }
        self.keep(chunk, from, length);
        Stop::NeedMore
    }

    /// Ends a JSON Lines record at the newline at `newline` because its brackets are still open.
    fn break_line(&mut self, chunk: &[u8], from: usize, newline: usize) -> Stop {
        let mut end = newline;
        if end > from && chunk[end - 1] == b'\r' {
            end -= 1;
        }
        self.keep(chunk, from, end);
        self.reset_after_record();
        Stop::Emit { consumed: newline + 1, broken: Some(BrokenKind::UnterminatedLine) }
    }

    /// Finishes a balanced record whose last byte is at `consumed - 1`.
    fn end_record(&mut self, consumed: usize) -> Stop {
        if self.layout.is_none() {
            let one_line = self.record_start.line == self.line;
            self.layout = Some(if one_line { Layout::Lines } else { Layout::Values });
        }
        let broken = self.record_too_large.then_some(BrokenKind::TooLarge);
        self.reset_after_record();
        Stop::Emit { consumed, broken }
    }

    fn reset_after_record(&mut self) {
        self.in_string = false;
        self.escape = false;
        self.depth = self.base_depth;
        self.phase = if self.base_depth == 0 { Phase::TopLevel } else { Phase::Between };
    }

    /// Scans an element that is not an object or array, up to the next separator.
    fn scan_scalar(&mut self, chunk: &[u8], mut index: usize) -> Stop {
        let from = index;
        while index < chunk.len() {
            let byte = chunk[index];
            if self.in_string {
                // A line feed ends the string even right after a backslash, as in scan_record.
                if self.escape && byte != b'\n' {
                    self.escape = false;
                } else if byte == b'\\' {
                    self.escape = true;
                } else if byte == b'"' || byte == b'\n' {
                    self.escape = false;
                    self.in_string = false;
                    if byte == b'\n' {
                        self.new_line(index);
                    }
                }
                index += 1;
                continue;
            }
            let starts_string = byte == b'"' && index == from && self.record.is_empty();
            if starts_string {
                self.in_string = true;
                index += 1;
                continue;
            }
            if matches!(byte, b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n') {
                self.keep(chunk, from, index);
                self.reset_after_record();
                return Stop::Emit { consumed: index, broken: Some(BrokenKind::NotAnObject) };
            }
            index += 1;
        }
        self.keep(chunk, from, chunk.len());
        Stop::NeedMore
    }

    /// Skips the rest of the `items` wrapper object; returns where top-level scanning resumes.
    fn skip_wrapper_tail(&mut self, chunk: &[u8], mut index: usize) -> Option<usize> {
        while index < chunk.len() {
            let byte = chunk[index];
            if self.in_string {
                if self.escape {
                    self.escape = false;
                } else if byte == b'\\' {
                    self.escape = true;
                } else if byte == b'"' {
                    self.in_string = false;
                }
            } else {
                match byte {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' => {
                        self.depth -= 1;
                        if self.depth == 0 {
                            self.phase = Phase::TopLevel;
                            return Some(index + 1);
                        }
                    }
                    _ => {}
                }
            }
            if byte == b'\n' {
                self.new_line(index);
            }
            index += 1;
        }
        None
    }

    /// Scans the first top-level object byte by byte, watching its keys for an `items` array.
    /// Returns `Ok(stop)` when the chunk is used up or the object ended, and `Err(index)` when
    /// the key search is over and scanning should resume at `index` in another phase.
    fn scan_first_value(&mut self, chunk: &[u8], mut index: usize) -> Result<Stop, usize> {
        let from = index;
        while index < chunk.len() {
            let byte = chunk[index];
            if byte == b'\n' {
                self.new_line(index);
            }

            if self.in_string {
                if self.key_watch == KeyWatch::InKey && !self.escape && byte != b'"' && byte != b'\\' {
                    self.key.push(byte);
                }
                // A line feed ends the string even right after a backslash, as in scan_record.
                if self.escape && byte != b'\n' {
                    self.escape = false;
                } else if byte == b'\\' {
                    self.escape = true;
                } else if byte == b'"' || byte == b'\n' {
                    self.escape = false;
                    self.in_string = false;
                    if self.key_watch == KeyWatch::InKey {
                        self.key_watch = KeyWatch::ExpectColon;
                    }
                }
                index += 1;
                continue;
            }

            let at_object_level = self.depth == 1;
            if at_object_level && self.key_watch == KeyWatch::ExpectValue && !byte.is_ascii_whitespace() {
                if byte == b'[' && self.key == b"items" {
                    // The wrapper of an items list: drop its text and scan the elements.
                    self.layout = Some(Layout::Items);
                    self.key_watch = KeyWatch::Off;
                    self.record.clear();
                    self.depth = 2;
                    self.base_depth = 2;
                    self.phase = Phase::Between;
                    return Err(index + 1);
                }
                self.key_watch = KeyWatch::InValue;
            }

            match byte {
                b'"' => {
                    self.in_string = true;
                    if at_object_level && self.key_watch == KeyWatch::ExpectKey {
                        self.key.clear();
                        self.key_watch = KeyWatch::InKey;
                    }
                }
                b'{' | b'[' => {
                    self.depth += 1;
                }
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        self.key_watch = KeyWatch::Off;
                        self.keep(chunk, from, index + 1);
                        return Ok(self.end_record(index + 1));
                    }
                }
                b':' if at_object_level && self.key_watch == KeyWatch::ExpectColon => {
                    self.key_watch = KeyWatch::ExpectValue;
                }
                b',' if at_object_level => {
                    self.key_watch = KeyWatch::ExpectKey;
                }
                _ => {}
            }
            index += 1;
        }
        self.keep(chunk, from, chunk.len());
        Ok(Stop::NeedMore)
    }
}

