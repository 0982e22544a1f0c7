//! Text that reaches a terminal: names come from files and users, so control characters
//! (escape sequences, newlines) are shown escaped instead of acting on the terminal.

use std::borrow::Cow;
use std::io::Write;

/// A line for the user on standard error. A closed standard error must not stop (or panic)
/// the program, so failures to write it are ignored.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// `s` with every control character written as an escape (`\n`, `\u{1b}`).
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(escape("2L adam"), "2L adam");
        assert_eq!(escape("a\nb"), "a\\nb");
        assert_eq!(escape("\u{1b}[31mred"), "\\u{1b}[31mred");
        assert_eq!(escape("ü→"), "ü→");
    }
}
