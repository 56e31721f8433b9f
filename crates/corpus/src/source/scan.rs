//! Splitting a stream of JSON text into one byte slice per record, with the line each record
//! starts on. This module only finds record boundaries; parsing the record is the caller's job.
//!
//! The layout is decided by parsing the first top-level value, never by looking at the first
//! bytes. An object with an `items` array (pretty-printed or on one line) makes each element a
//! record. Any other value that ends on the line it starts makes the file JSON Lines.
//! Otherwise records are top-level values, or elements of a top-level array, spanning lines.
//! Memory stays at one record plus the read buffer, whatever the size of the file.

use std::io::{self, BufRead};

use memchr::memchr3;

/// The record layout of a JSON file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// `{"items": [...]}`: each element of the `items` array is a record.
    Items,
    /// JSON Lines: one record per line.
    Lines,
    /// Records spanning several lines, one after another or inside a top-level array.
    Values,
}

/// The start position of a record in the decompressed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TextPosition {
    /// 1-based line number.
    pub line: u64,
    /// 1-based byte column on that line.
    pub column: u64,
    /// Byte offset from the start of the decompressed text.
    pub offset: u64,
}

/// The reason a span of text cannot be a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokenKind {
    /// An element of the record list that is a string, number, `true`, `false` or `null`.
    NotAnObject,
    /// A JSON Lines record whose brackets or quotes are still open at the end of its line.
    UnterminatedLine,
    /// A character that cannot start a JSON value between records.
    UnexpectedCharacter(u8),
    /// A record larger than the configured maximum; only its start is kept.
    TooLarge,
}

/// One step of the scan. `T` is the value of a record parsed on the fast path (see
/// [`RecordScanner::next_with`]).
#[derive(Debug)]
pub enum Scanned<'a, T = ()> {
    /// The text of one complete record (brackets balanced), for the caller to parse.
    Record(&'a [u8], TextPosition),
    /// A record the fast-path parser parsed in place: its text and the parser's value.
    Parsed(&'a [u8], TextPosition, T),
    /// Text that cannot be a record; scanning goes on after it.
    Broken(&'a [u8], TextPosition, BrokenKind),
    /// The text ended, or reading failed, inside a record or inside the `items` array. The
    /// partial record (possibly empty) is returned; nothing follows.
    Truncated(&'a [u8], TextPosition, Option<io::Error>),
    /// Reading failed between records; nothing follows.
    ReadFailed(io::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
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

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The outcome of processing one chunk.
enum Stop {
    /// The chunk was used up; read more.
    NeedMore,
    /// A record starts at `index` of the chunk and the fast path may parse it.
    RecordStart { index: usize },
    /// A record or broken span ended; `consumed` bytes of the chunk were used.
    Emit { consumed: usize, broken: Option<BrokenKind> },
}

/// A resumable splitter of JSON text into records. Call [`RecordScanner::next`] until it
/// returns `None`.
pub struct RecordScanner<R> {
    reader: R,
    state: ScanState,
    /// Bytes of the reader's buffer to consume at the next call: the text of a record
    /// returned by the fast path, which borrowed it in place.
    pending_consume: usize,
}

/// The resumable state of a [`RecordScanner`], kept apart from the reader so that a chunk
/// borrowed from the reader can be processed while the state changes.
struct ScanState {
    max_record_bytes: usize,
    /// Stop at each record start so that the caller's parser can try the record in place.
    fast_path: bool,
    layout: Option<Layout>,
    phase: Phase,
    depth: u32,
    /// Depth at which records are elements: 0 at top level, 1 in a top-level array, 2 in items.
    base_depth: u32,
    in_string: bool,
    escape: bool,
    key_watch: KeyWatch,
    key: Vec<u8>,
    /// The current record's text (or its first `max_record_bytes` bytes).
    record: Vec<u8>,
    record_start: TextPosition,
    record_too_large: bool,
    /// 1-based number of the line being scanned.
    line: u64,
    /// Offset of the first byte of the current line.
    line_start: u64,
    /// Offset of the first byte of the current chunk.
    chunk_offset: u64,
    at_file_start: bool,
}

impl<R: BufRead> RecordScanner<R> {
    /// Creates a scanner over decompressed text; a record longer than `max_record_bytes` is
    /// reported as [`BrokenKind::TooLarge`] and only its start is kept.
    pub fn new(reader: R, max_record_bytes: usize) -> Self {
        let state = ScanState {
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
        };
        RecordScanner { reader, state, pending_consume: 0 }
    }

    /// Returns the layout decided from the first top-level value, once one was seen.
    pub fn layout(&self) -> Option<Layout> {
        self.state.layout
    }

    /// Returns the next record, broken span or end-of-text problem; `None` once the text ended.
    #[allow(clippy::should_implement_trait)] // items borrow the scanner, so it cannot be an Iterator
    pub fn next(&mut self) -> Option<Scanned<'_>> {
        self.state.fast_path = false;
        self.advance(&mut |_: &[u8]| None::<(usize, ())>)
    }

    /// Returns the next step like [`RecordScanner::next`], but first offers each record to
    /// `parse_prefix`, which receives the text from the record's first byte to the end of the
    /// buffered text. When it returns the record's length in bytes and a value, the record is
    /// returned as [`Scanned::Parsed`] without being scanned or copied. When it returns
    /// `None` (the record continues past the buffer, or is invalid), the record is scanned
    /// and returned as [`Scanned::Record`] or [`Scanned::Broken`].
    ///
    /// This saves a second pass over each record: a parser such as serde_json finds the end
    /// of the record while parsing it.
    pub fn next_with<T>(&mut self, parse_prefix: &mut dyn FnMut(&[u8]) -> Option<(usize, T)>) -> Option<Scanned<'_, T>> {
        self.state.fast_path = true;
        self.advance(parse_prefix)
    }

    fn advance<T>(&mut self, parse_prefix: &mut dyn FnMut(&[u8]) -> Option<(usize, T)>) -> Option<Scanned<'_, T>> {
        if self.pending_consume > 0 {
            self.reader.consume(self.pending_consume);
            self.state.chunk_offset += self.pending_consume as u64;
            self.pending_consume = 0;
        }
        if self.state.phase == Phase::Done {
            return None;
        }

        // The loop only decides what to return, so that no borrow of the state or the
        // reader's buffer escapes from inside it.
        let outcome = 'read: loop {
            let state = &mut self.state;
            let chunk = match self.reader.fill_buf() {
                Ok(chunk) => chunk,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => break 'read Outcome::Failed(error),
            };
            if chunk.is_empty() {
                break 'read Outcome::Ended;
            }

            let mut index = 0;
            if state.at_file_start {
                state.at_file_start = false;
                if chunk.starts_with(UTF8_BOM) {
                    index = UTF8_BOM.len();
                }
            }
            loop {
                match state.process(chunk, index) {
                    Stop::NeedMore => {
                        let length = chunk.len();
                        self.reader.consume(length);
                        state.chunk_offset += length as u64;
                        continue 'read;
                    }
                    Stop::Emit { consumed, broken } => {
                        self.reader.consume(consumed);
                        state.chunk_offset += consumed as u64;
                        break 'read Outcome::Scanned(broken);
                    }
                    Stop::RecordStart { index: start } => {
                        if let Some((length, value)) = parse_prefix(&chunk[start..]) {
                            let end = start + length.min(chunk.len() - start);
                            state.take_parsed(chunk, start, end);
                            break 'read Outcome::Parsed { start, end, value };
                        }
                        state.begin_slow_record(start);
                        index = start;
                    }
                }
            }
        };

        match outcome {
            Outcome::Failed(error) => Some(self.state.finish(Some(error)).into_any()),
            Outcome::Ended => self.state.finish_at_end().map(Scanned::into_any),
            Outcome::Scanned(broken) => {
                let text = &self.state.record[..];
                let position = self.state.record_start;
                Some(match broken {
                    None => Scanned::Record(text, position),
                    Some(kind) => Scanned::Broken(text, position, kind),
                })
            }
            Outcome::Parsed { start, end, value } => {
                // The chunk is still in the reader's buffer, so this returns it without reading.
                let chunk = match self.reader.fill_buf() {
                    Ok(chunk) if chunk.len() >= end => chunk,
                    _ => {
                        let error = io::Error::other("the read buffer changed under a parsed record");
                        return Some(self.state.finish(Some(error)).into_any());
                    }
                };
                self.pending_consume = end;
                Some(Scanned::Parsed(&chunk[start..end], self.state.record_start, value))
            }
        }
    }
}

/// What [`RecordScanner::advance`] returns, decided before any borrow is handed out.
enum Outcome<T> {
    Failed(io::Error),
    Ended,
    /// A scanned record or broken span, in the state's record buffer.
    Scanned(Option<BrokenKind>),
    /// A record parsed in place at `start..end` of the reader's buffer.
    Parsed { start: usize, end: usize, value: T },
}

impl<'a> Scanned<'a, ()> {
    /// Converts a step without a parsed value to one of any value type.
    fn into_any<T>(self) -> Scanned<'a, T> {
        match self {
            Scanned::Record(text, position) => Scanned::Record(text, position),
            Scanned::Parsed(text, position, ()) => Scanned::Record(text, position),
            Scanned::Broken(text, position, kind) => Scanned::Broken(text, position, kind),
            Scanned::Truncated(text, position, error) => Scanned::Truncated(text, position, error),
            Scanned::ReadFailed(error) => Scanned::ReadFailed(error),
        }
    }
}

impl ScanState {
    /// Handles the end of the text: clean between top-level values, truncated elsewhere.
    fn finish_at_end(&mut self) -> Option<Scanned<'_>> {
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
    fn finish(&mut self, error: Option<io::Error>) -> Scanned<'_> {
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
    fn take_parsed(&mut self, chunk: &[u8], start: usize, end: usize) {
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
    fn begin_slow_record(&mut self, index: usize) {
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
    fn process(&mut self, chunk: &[u8], mut index: usize) -> Stop {
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
                    index += 1;
                    if index >= length {
                        break;
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
                if self.escape {
                    self.escape = false;
                } else if byte == b'\\' {
                    self.escape = true;
                } else if byte == b'"' || byte == b'\n' {
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
                if self.escape {
                    self.escape = false;
                } else if byte == b'\\' {
                    self.escape = true;
                } else if byte == b'"' || byte == b'\n' {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects (kind, text, line) for every scan step over `text`, read in chunks of
    /// `chunk_bytes` so that state crossing chunk boundaries is exercised.
    fn scan(text: &str, chunk_bytes: usize) -> (Vec<(String, String, u64)>, Option<Layout>) {
        let reader = io::BufReader::with_capacity(chunk_bytes, text.as_bytes());
        let mut scanner = RecordScanner::new(reader, 1 << 20);
        let mut steps = Vec::new();
        while let Some(step) = scanner.next() {
            let (kind, bytes, line) = match step {
                Scanned::Record(bytes, at) | Scanned::Parsed(bytes, at, ()) => ("record".to_string(), bytes, at.line),
                Scanned::Broken(bytes, at, kind) => (format!("broken {kind:?}"), bytes, at.line),
                Scanned::Truncated(bytes, at, _) => ("truncated".to_string(), bytes, at.line),
                Scanned::ReadFailed(_) => ("read failed".to_string(), &[][..], 0),
            };
            steps.push((kind, String::from_utf8_lossy(bytes).into_owned(), line));
        }
        (steps, scanner.layout())
    }

    fn records(steps: &[(String, String, u64)]) -> Vec<&str> {
        steps.iter().filter(|s| s.0 == "record").map(|s| s.1.as_str()).collect()
    }

    #[test]
    fn pretty_items_yield_elements_with_lines() {
        let text = "{\n  \"items\": [\n    {\"a\": 1},\n    {\n      \"b\": \"}\"\n    }\n  ]\n}\n";
        for chunk in [1, 3, 7, 64] {
            let (steps, layout) = scan(text, chunk);
            assert_eq!(layout, Some(Layout::Items), "chunk {chunk}");
            assert_eq!(records(&steps), vec!["{\"a\": 1}", "{\n      \"b\": \"}\"\n    }"]);
            assert_eq!(steps[0].2, 3);
            assert_eq!(steps[1].2, 4);
        }
    }

    #[test]
    fn one_line_items_detected_by_key() {
        let text = r#"{"status":"ok","items":[{"DOI":"x"},{"DOI":"y"}],"next":{"a":[1]}}"#;
        let (steps, layout) = scan(text, 5);
        assert_eq!(layout, Some(Layout::Items));
        assert_eq!(records(&steps), vec![r#"{"DOI":"x"}"#, r#"{"DOI":"y"}"#]);
        assert_eq!(steps.len(), 2);
    }

    #[test]
    fn json_lines_tolerate_crlf_and_blanks() {
        let text = "{\"a\":\"x\\\"y\"}\r\n\r\n\n{\"b\":[1,{}]}\r\n{\"c\":2}";
        let (steps, layout) = scan(text, 4);
        assert_eq!(layout, Some(Layout::Lines));
        assert_eq!(records(&steps), vec!["{\"a\":\"x\\\"y\"}", "{\"b\":[1,{}]}", "{\"c\":2}"]);
        let lines: Vec<u64> = steps.iter().map(|s| s.2).collect();
        assert_eq!(lines, vec![1, 4, 5]);
    }

    #[test]
    fn unterminated_line_breaks_only_itself() {
        let text = "{\"a\":1}\n{\"b\":[1,2\n{\"c\":\"open\n{\"d\":4}\n";
        let (steps, _) = scan(text, 64);
        let kinds: Vec<&str> = steps.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(kinds, vec!["record", "broken UnterminatedLine", "broken UnterminatedLine", "record"]);
        assert_eq!(steps[1].1, "{\"b\":[1,2");
        assert_eq!(steps[3].1, "{\"d\":4}");
        assert_eq!(steps[3].2, 4);
    }

    #[test]
    fn truncated_items_return_partial_record() {
        let text = "{\n\"items\": [\n{\"a\": 1},\n{\"b\": \"cut";
        let (steps, _) = scan(text, 8);
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].0, "record");
        assert_eq!(steps[1].0, "truncated");
        assert_eq!(steps[1].1, "{\"b\": \"cut");
        assert_eq!(steps[1].2, 4);
    }

    #[test]
    fn truncated_between_items_is_reported() {
        let text = "{\"items\": [{\"a\": 1},";
        let (steps, _) = scan(text, 8);
        let kinds: Vec<&str> = steps.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(kinds, vec!["record", "truncated"]);
        assert_eq!(steps[1].1, "");
    }

    #[test]
    fn scalar_items_are_not_objects() {
        let text = "{\"items\": [null, \"a,b\", {\"a\": 1}, 3]}";
        let (steps, _) = scan(text, 64);
        let kinds: Vec<&str> = steps.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(kinds, vec!["broken NotAnObject", "broken NotAnObject", "record", "broken NotAnObject"]);
        assert_eq!(steps[1].1, "\"a,b\"");
    }

    #[test]
    fn pretty_values_and_top_level_array() {
        let (steps, layout) = scan("{\n\"a\": 1\n}\n{\n\"b\": 2\n}\n", 3);
        assert_eq!(layout, Some(Layout::Values));
        assert_eq!(records(&steps), vec!["{\n\"a\": 1\n}", "{\n\"b\": 2\n}"]);
        assert_eq!(steps[1].2, 4);

        let (steps, layout) = scan("[\n {\"a\": 1},\n {\"b\": 2}\n]\n", 3);
        assert_eq!(layout, Some(Layout::Values));
        assert_eq!(records(&steps), vec!["{\"a\": 1}", "{\"b\": 2}"]);
    }

    #[test]
    fn garbage_line_is_skipped() {
        let (steps, _) = scan("{\"a\":1}\nnot json\n{\"b\":2}\n", 64);
        let kinds: Vec<&str> = steps.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(kinds, vec!["record", "broken UnexpectedCharacter(110)", "record"]);
        assert_eq!(steps[1].1, "not json");
        assert_eq!(steps[1].2, 2);
    }

    #[test]
    fn oversized_record_keeps_start_only() {
        let reader = io::BufReader::with_capacity(4, "{\"a\":\"0123456789\"}\n{\"b\":1}\n".as_bytes());
        let mut scanner = RecordScanner::new(reader, 8);
        match scanner.next() {
            Some(Scanned::Broken(bytes, _, BrokenKind::TooLarge)) => assert_eq!(bytes, b"{\"a\":\"01"),
            other => panic!("expected a too-large record, got {other:?}"),
        }
        match scanner.next() {
            Some(Scanned::Record(bytes, at)) => {
                assert_eq!(bytes, b"{\"b\":1}");
                assert_eq!(at.line, 2);
            }
            other => panic!("expected a record, got {other:?}"),
        }
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let (steps, _) = scan("\u{feff}{\"a\":1}\n", 64);
        assert_eq!(records(&steps), vec!["{\"a\":1}"]);
    }

    #[test]
    fn column_and_offset_of_second_item() {
        let text = "{\"items\":[{\"a\":1}, {\"b\":2}]}";
        let reader = io::BufReader::new(text.as_bytes());
        let mut scanner = RecordScanner::new(reader, 1 << 20);
        let _ = scanner.next();
        match scanner.next() {
            Some(Scanned::Record(_, at)) => {
                // `{"b":2}` starts at byte 19 (0-based), column 20.
                assert_eq!(at.offset, 19);
                assert_eq!(at.column, 20);
            }
            other => panic!("expected a record, got {other:?}"),
        }
    }

    /// Runs the fast path with serde_json over `text` in chunks of `chunk_bytes`; returns
    /// (kind, text, line) per step, kind `parsed` for records parsed in place.
    fn scan_fast(text: &str, chunk_bytes: usize) -> Vec<(String, String, u64)> {
        let reader = io::BufReader::with_capacity(chunk_bytes, text.as_bytes());
        let mut scanner = RecordScanner::new(reader, 1 << 20);
        let mut parse = |bytes: &[u8]| {
            let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<serde::de::IgnoredAny>();
            stream.next()?.ok()?;
            Some((stream.byte_offset(), ()))
        };
        let mut steps = Vec::new();
        while let Some(step) = scanner.next_with(&mut parse) {
            let (kind, bytes, line) = match step {
                Scanned::Parsed(bytes, at, ()) => ("parsed", bytes, at.line),
                Scanned::Record(bytes, at) => ("record", bytes, at.line),
                Scanned::Broken(bytes, at, _) => ("broken", bytes, at.line),
                Scanned::Truncated(bytes, at, _) => ("truncated", bytes, at.line),
                Scanned::ReadFailed(_) => ("read failed", &[][..], 0),
            };
            steps.push((kind.to_string(), String::from_utf8_lossy(bytes).into_owned(), line));
        }
        steps
    }

    #[test]
    fn fast_path_parses_in_place() {
        let text = "{\n\"items\": [\n{\"a\": 1},\n{\n\"b\": \"x\"\n},\n{\"c\": [1, 2]}\n]\n}\n";
        let steps = scan_fast(text, 1024);
        let summary: Vec<(&str, &str, u64)> = steps.iter().map(|(kind, text, line)| (kind.as_str(), text.as_str(), *line)).collect();
        assert_eq!(summary, vec![("parsed", "{\"a\": 1}", 3), ("parsed", "{\n\"b\": \"x\"\n}", 4), ("parsed", "{\"c\": [1, 2]}", 7)]);
    }

    #[test]
    fn fast_path_falls_back_at_chunk_edges() {
        // Small chunks cut most records, which are then scanned; the result is the same.
        let text = "{\"a\": \"one\"}\n{\"b\": \"two\"}\n{\"c\": [1,\n{\"d\": 4}\n";
        for chunk in [3, 9, 17, 1024] {
            let steps = scan_fast(text, chunk);
            let texts: Vec<&str> = steps.iter().map(|step| step.1.as_str()).collect();
            assert_eq!(texts, vec!["{\"a\": \"one\"}", "{\"b\": \"two\"}", "{\"c\": [1,", "{\"d\": 4}"], "chunk {chunk}");
            let kinds: Vec<&str> = steps.iter().map(|step| if step.0 == "parsed" { "record" } else { step.0.as_str() }).collect();
            assert_eq!(kinds, vec!["record", "record", "broken", "record"], "chunk {chunk}");
            let lines: Vec<u64> = steps.iter().map(|step| step.2).collect();
            assert_eq!(lines, vec![1, 2, 3, 4], "chunk {chunk}");
        }
    }
}
