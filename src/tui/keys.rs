//! One key table drives key handling, the footer and the `?` help, so they never disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    ForceQuit,
    Help,
    TogglePause,
    Skip,
    Cancel,
    Export,
    NextView,
    ViewLive,
    ViewGrid,
    ViewTable,
    Up,
    Down,
    Left,
    Right,
    Enter,
    Follow,
    ToggleLog,
    Sort,
    Back,
    Resume,
    Compare,
    ViewFactors,
    ViewDigits,
    RowFactor,
    ColFactor,
    Metric,
    PatienceUp,
    PatienceDown,
    Smooth,
    FilterTrue,
    FilterPredicted,
    Yes,
    No,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Everywhere,
    Picker,
    Run,
}

pub struct Binding {
    pub keys: &'static str,
    pub action: Action,
    pub help: &'static str,
    pub scope: Scope,
    /// Short label in the footer (the most used bindings only).
    pub footer: Option<&'static str>,
}

pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: "↑/k ↓/j",
        action: Action::Up,
        help: "select preset / variant",
        scope: Scope::Everywhere,
        footer: Some("select"),
    },
    Binding {
        keys: "enter",
        action: Action::Enter,
        help: "start preset / focus variant in live view",
        scope: Scope::Everywhere,
        footer: Some("open"),
    },
    Binding {
        keys: "space",
        action: Action::TogglePause,
        help: "pause / resume training",
        scope: Scope::Run,
        footer: Some("pause"),
    },
    Binding {
        keys: "s",
        action: Action::Skip,
        help: "skip the running variant",
        scope: Scope::Run,
        footer: Some("skip"),
    },
    Binding {
        keys: "c",
        action: Action::Cancel,
        help: "cancel the preset (asks first)",
        scope: Scope::Run,
        footer: Some("cancel"),
    },
    Binding {
        keys: "e",
        action: Action::Export,
        help: "export CSV, Markdown, plots, weights of finished variants",
        scope: Scope::Run,
        footer: Some("export"),
    },
    Binding {
        keys: "tab 1 2 3",
        action: Action::NextView,
        help: "next view / live / grid / table",
        scope: Scope::Run,
        footer: Some("views"),
    },
    Binding {
        keys: "f",
        action: Action::Follow,
        help: "follow the running variant",
        scope: Scope::Run,
        footer: None,
    },
    Binding {
        keys: "←/h →/l",
        action: Action::Left,
        help: "move in the grid",
        scope: Scope::Run,
        footer: None,
    },
    Binding {
        keys: "g",
        action: Action::ToggleLog,
        help: "toggle log scale for loss",
        scope: Scope::Run,
        footer: None,
    },
    Binding {
        keys: "o",
        action: Action::Sort,
        help: "cycle table sort (order, loss, accuracy, name)",
        scope: Scope::Run,
        footer: None,
    },
    Binding {
        keys: "esc",
        action: Action::Back,
        help: "close popup / back to picker when done",
        scope: Scope::Everywhere,
        footer: None,
    },
    Binding {
        keys: "?",
        action: Action::Help,
        help: "show / hide this help",
        scope: Scope::Everywhere,
        footer: Some("help"),
    },
    Binding {
        keys: "q",
        action: Action::Quit,
        help: "quit (asks while training)",
        scope: Scope::Everywhere,
        footer: Some("quit"),
    },
    Binding {
        keys: "ctrl-c",
        action: Action::ForceQuit,
        help: "quit now (finished variants are on disk)",
        scope: Scope::Everywhere,
        footer: None,
    },
];

/// Maps a key press to an action. Confirm popups read y/n through `Yes` / `No`.
pub fn action_for(key: KeyEvent) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return match key.code {
            KeyCode::Char('c') => Some(Action::ForceQuit),
            _ => None,
        };
    }
    Some(match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char(' ') => Action::TogglePause,
        KeyCode::Char('s') => Action::Skip,
        KeyCode::Char('c') => Action::Cancel,
        KeyCode::Char('e') => Action::Export,
        KeyCode::Tab => Action::NextView,
        KeyCode::Char('1') => Action::ViewLive,
        KeyCode::Char('2') => Action::ViewGrid,
        KeyCode::Char('3') => Action::ViewTable,
        KeyCode::Char('4') => Action::ViewFactors,
        KeyCode::Char('5') => Action::ViewDigits,
        KeyCode::Char('[') => Action::RowFactor,
        KeyCode::Char(']') => Action::ColFactor,
        KeyCode::Char('m') => Action::Metric,
        KeyCode::Char('+') | KeyCode::Char('=') => Action::PatienceUp,
        KeyCode::Char('-') => Action::PatienceDown,
        KeyCode::Char('t') => Action::Smooth,
        KeyCode::Char('u') => Action::FilterTrue,
        KeyCode::Char('i') => Action::FilterPredicted,
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::Left | KeyCode::Char('h') => Action::Left,
        KeyCode::Right | KeyCode::Char('l') => Action::Right,
        KeyCode::Enter => Action::Enter,
        KeyCode::Char('f') => Action::Follow,
        KeyCode::Char('g') => Action::ToggleLog,
        KeyCode::Char('o') => Action::Sort,
        KeyCode::Char('r') => Action::Resume,
        KeyCode::Char('b') => Action::Compare,
        KeyCode::Esc => Action::Back,
        KeyCode::Char('y') | KeyCode::Char('Y') => Action::Yes,
        KeyCode::Char('n') | KeyCode::Char('N') => Action::No,
        _ => return None,
    })
}

/// The footer line for a scope: "key action · key action …".
pub fn footer(scope: Scope) -> Vec<(&'static str, &'static str)> {
    BINDINGS
        .iter()
        .filter(|b| b.scope == Scope::Everywhere || b.scope == scope)
        .filter_map(|b| b.footer.map(|label| (b.keys, label)))
        .collect()
}
