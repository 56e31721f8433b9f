//! Splitting a stream of JSON text into one byte slice per record, with the line each record
//! starts on. Parsing is the caller's job. With [`RecordScanner::next_with`] the caller's
//! parser tries each record in place first and reports where it ends, so most records are
//! not scanned byte by byte at all.
//!
//! The layout is decided by parsing the first top-level value, never by looking at the first
//! bytes. An object with an `items` array (pretty-printed or on one line) makes each element a
//! record. Any other value that ends on the line it starts makes the file JSON Lines.
//! Otherwise records are top-level values, or elements of a top-level array, spanning lines.
//! Memory stays at one record plus the read buffer, whatever the size of the file.

use std::io::{self, BufRead};

mod state;

use state::{Phase, ScanState, Stop, UTF8_BOM};

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

/// A parser offered each record in place by [`RecordScanner::next_with`]: given the text from
/// the record's first byte to the end of the buffer, it returns the record's length and its
/// value, or `None` to let the scanner handle the record.
pub type PrefixParser<'p, T> = dyn FnMut(&[u8]) -> Option<(usize, T)> + 'p;

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

/// A resumable splitter of JSON text into records. Call [`RecordScanner::next`] until it
/// returns `None`.
pub struct RecordScanner<R> {
    reader: R,
    state: ScanState,
    /// Bytes of the reader's buffer to consume at the next call: the text of a record
    /// returned by the fast path, which borrowed it in place.
    pending_consume: usize,
}

impl<R: BufRead> RecordScanner<R> {
    /// Creates a scanner over decompressed text; a record longer than `max_record_bytes` is
    /// reported as [`BrokenKind::TooLarge`] and only its start is kept.
    pub fn new(reader: R, max_record_bytes: usize) -> Self {
        let state = ScanState::new(max_record_bytes);
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
    pub fn next_with<T>(&mut self, parse_prefix: &mut PrefixParser<'_, T>) -> Option<Scanned<'_, T>> {
        self.state.fast_path = true;
        self.advance(parse_prefix)
    }

    fn advance<T>(&mut self, parse_prefix: &mut PrefixParser<'_, T>) -> Option<Scanned<'_, T>> {
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
                        // A JSON Lines record ends with its line, so the parser gets that line
                        // only. A cut record then fails at the line's end, instead of taking
                        // the records after it or scanning the rest of the buffer.
                        let mut candidate = &chunk[start..];
                        if state.layout == Some(Layout::Lines) {
                            if let Some(newline) = memchr::memchr(b'\n', candidate) {
                                candidate = &candidate[..newline];
                            }
                        }
                        if let Some((length, value)) = parse_prefix(candidate) {
                            let end = start + length.min(candidate.len());
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

#[cfg(test)]
mod tests;
