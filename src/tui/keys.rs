//! One key table drives key handling, the footer and the `?` help, so they never disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::state::View;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Show a view of the run (`1`–`7`).
    Show(View),
    /// Train the next preset started on the other engine (fast ↔ dfdx).
    SwitchEngine,
    Quit,
    ForceQuit,
    Help,
    TogglePause,
    Skip,
    Cancel,
    Export,
    NextView,
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
    SharedScale,
    ToggleMouse,
    Filter,
    Pin,
    Hide,
    /// `[`: the previous or lesser of what the view steps through (a row factor, variant B,
    /// a smoothing weight).
    Less,
    /// `]`: the next or greater.
    More,
    Metric,
    PatienceUp,
    PatienceDown,
    Smooth,
    FilterTrue,
    FilterPredicted,
    Yes,
    No,
    First,
    Last,
    PageUp,
    PageDown,
    Rename,
    Delete,
    ExportView,
    /// `a`: the selected unit's per-epoch log, as `run` prints it.
    EpochLog,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Everywhere,
    Picker,
    /// A run on screen (finished, followed or training).
    Run,
    /// A run this process is training: pause, skip and cancel.
    Training,
}

impl Scope {
    /// Whether a binding of scope `self` works where the user is (`now`).
    pub fn works_in(self, now: Scope) -> bool {
        match self {
            Scope::Everywhere => true,
            Scope::Picker => now == Scope::Picker,
            Scope::Run => matches!(now, Scope::Run | Scope::Training),
            Scope::Training => now == Scope::Training,
        }
    }
}

/// The bindings that work where the user is (`now`, on `view` when a run is shown): what
/// help and the footer list.
pub fn bindings_in(now: Scope, view: Option<View>) -> Vec<&'static Binding> {
    BINDINGS
        .iter()
        .filter(|b| b.scope.works_in(now))
        .filter(|b| b.views.is_empty() || view.is_none_or(|v| b.views.contains(&v)))
        .collect()
}

/// One line of the key table: the keys, what each does, and how help and footer show them.
pub struct Binding {
    pub keys: &'static str,
    pub map: &'static [(KeyCode, Action)],
    pub help: &'static str,
    pub scope: Scope,
    /// The views of a run it works in (empty: all of them); the picker's keys are chosen by
    /// scope alone.
    pub views: &'static [View],
    /// Short label in the footer (the most used bindings only).
    pub footer: Option<&'static str>,
}

use Action as A;
use KeyCode::Char as C;

/// The key table: key handling (`action_for`), the footer and the `?` help all read it.
/// A key may be listed twice (help says what it does in each view) but means one action;
/// `n` is `Rename`, which a confirmation takes as no.
#[rustfmt::skip]
pub const BINDINGS: &[Binding] = &[
    Binding { keys: "↑/k ↓/j", map: &[(KeyCode::Up, A::Up), (C('k'), A::Up), (KeyCode::Down, A::Down), (C('j'), A::Down)], help: "select a preset, run, variant or curve", scope: Scope::Everywhere, views: &[], footer: Some("select") },
    Binding { keys: "enter", map: &[(KeyCode::Enter, A::Enter)], help: "start the preset / open the past run", scope: Scope::Picker, views: &[], footer: Some("start") },
    Binding { keys: "enter", map: &[(KeyCode::Enter, A::Enter)], help: "show the selected variant in the live view", scope: Scope::Run, views: &[], footer: None },
    Binding { keys: "space", map: &[(C(' '), A::TogglePause)], help: "pause / resume training", scope: Scope::Training, views: &[], footer: Some("pause") },
    Binding { keys: "s", map: &[(C('s'), A::Skip)], help: "skip the running unit", scope: Scope::Training, views: &[], footer: Some("skip") },
    Binding { keys: "c", map: &[(C('c'), A::Cancel)], help: "cancel the preset (asks first)", scope: Scope::Training, views: &[], footer: Some("cancel") },
    Binding { keys: "e", map: &[(C('e'), A::Export)], help: "export CSV, Markdown, plots and weights", scope: Scope::Run, views: &[], footer: Some("export") },
    Binding { keys: "E", map: &[(C('E'), A::ExportView)], help: "export this view as drawn: SVG, PNG and the CSV of its curves", scope: Scope::Run, views: &[], footer: None },
    Binding { keys: "tab 1 2 3", map: &[(KeyCode::Tab, A::NextView), (C('1'), A::Show(View::Live)), (C('2'), A::Show(View::Grid)), (C('3'), A::Show(View::Table))], help: "next view / live / grid / table", scope: Scope::Run, views: &[], footer: Some("views") },
    Binding { keys: "4 5 6 7", map: &[(C('4'), A::Show(View::Factors)), (C('5'), A::Show(View::Digits)), (C('6'), A::Show(View::Pairs)), (C('7'), A::Show(View::Overlay))], help: "factors / digits / pairs / overlay", scope: Scope::Run, views: &[], footer: None },
    Binding { keys: "p x", map: &[(C('p'), A::Pin), (C('x'), A::Hide)], help: "pin / hide the curve in focus", scope: Scope::Run, views: &[View::Overlay], footer: None },
    Binding { keys: "[ ]", map: &[(C('['), A::Less), (C(']'), A::More)], help: "next row / column factor", scope: Scope::Run, views: &[View::Factors], footer: None },
    Binding { keys: "[ ]", map: &[(C('['), A::Less), (C(']'), A::More)], help: "pick B: the previous / next variant", scope: Scope::Run, views: &[View::Pairs], footer: None },
    Binding { keys: "[ ]", map: &[(C('['), A::Less), (C(']'), A::More)], help: "smoothing weaker / stronger (0–0.99)", scope: Scope::Run, views: &[View::Overlay], footer: None },
    Binding { keys: "[ ]", map: &[(C('['), A::Less), (C(']'), A::More)], help: "batch-loss EMA weaker / stronger (0–0.99, per batch)", scope: Scope::Run, views: &[View::Live], footer: None },
    Binding { keys: "m", map: &[(C('m'), A::Metric)], help: "next metric", scope: Scope::Run, views: &[View::Factors, View::Overlay], footer: None },
    Binding { keys: "u i", map: &[(C('u'), A::FilterTrue), (C('i'), A::FilterPredicted)], help: "filter by true / predicted class (click a matrix cell: that pair)", scope: Scope::Run, views: &[View::Digits], footer: None },
    Binding { keys: "+ -", map: &[(C('+'), A::PatienceUp), (C('='), A::PatienceUp), (C('-'), A::PatienceDown)], help: "early-stopping marker patience up / down", scope: Scope::Run, views: &[View::Live, View::Grid], footer: None },
    Binding { keys: "t", map: &[(C('t'), A::Smooth)], help: "the batch loss's EMA (over every batch) on / off", scope: Scope::Run, views: &[View::Live], footer: None },
    Binding { keys: "t", map: &[(C('t'), A::Smooth)], help: "smoothed curves over faint raw ones / raw", scope: Scope::Run, views: &[View::Overlay], footer: None },
    Binding { keys: "L", map: &[(C('L'), A::ToggleLog)], help: "log scale for loss on / off", scope: Scope::Run, views: &[View::Live, View::Grid, View::Overlay], footer: None },
    Binding { keys: "v", map: &[(C('v'), A::SharedScale)], help: "one y-scale / one per cell", scope: Scope::Run, views: &[View::Grid], footer: None },
    Binding { keys: "M", map: &[(C('M'), A::ToggleMouse)], help: "mouse on / off (off: select text)", scope: Scope::Everywhere, views: &[], footer: None },
    Binding { keys: "a", map: &[(C('a'), A::EpochLog)], help: "the unit's epochs as `run` prints them (PgUp/PgDn scroll)", scope: Scope::Run, views: &[View::Live], footer: None },
    Binding { keys: "o", map: &[(C('o'), A::Sort)], help: "next sort order", scope: Scope::Everywhere, views: &[View::Table, View::Grid], footer: None },
    Binding { keys: "f", map: &[(C('f'), A::Follow)], help: "follow the running variant", scope: Scope::Run, views: &[View::Live, View::Grid, View::Table], footer: None },
    Binding { keys: "←/h →/l", map: &[(KeyCode::Left, A::Left), (C('h'), A::Left), (KeyCode::Right, A::Right), (C('l'), A::Right)], help: "previous / next variant", scope: Scope::Run, views: &[View::Grid, View::Pairs, View::Table], footer: None },
    Binding { keys: "←/h →/l", map: &[(KeyCode::Left, A::Left), (C('h'), A::Left), (KeyCode::Right, A::Right), (C('l'), A::Right)], help: "previous / next page of the gallery", scope: Scope::Run, views: &[View::Digits], footer: None },
    Binding { keys: "←/h →/l", map: &[(KeyCode::Left, A::Left), (C('h'), A::Left), (KeyCode::Right, A::Right), (C('l'), A::Right)], help: "epoch cursor: every curve's value at an epoch (→ past the last hides it)", scope: Scope::Run, views: &[View::Live, View::Overlay], footer: None },
    Binding { keys: "g G", map: &[(C('g'), A::First), (C('G'), A::Last), (KeyCode::Home, A::First), (KeyCode::End, A::Last)], help: "first / last in the list (Home / End too)", scope: Scope::Everywhere, views: &[], footer: None },
    Binding { keys: "PgUp PgDn", map: &[(KeyCode::PageUp, A::PageUp), (KeyCode::PageDown, A::PageDown)], help: "ten up / down in the list (the factor view: its effects)", scope: Scope::Everywhere, views: &[], footer: None },
    Binding { keys: "/", map: &[(C('/'), A::Filter)], help: "filter past runs by typing", scope: Scope::Picker, views: &[], footer: Some("filter") },
    Binding { keys: "/", map: &[(C('/'), A::Filter)], help: "find a variant by name (enter keeps, esc returns)", scope: Scope::Run, views: &[View::Live, View::Grid, View::Table, View::Overlay, View::Pairs], footer: None },
    Binding { keys: "r", map: &[(C('r'), A::Resume)], help: "resume an interrupted past run", scope: Scope::Picker, views: &[], footer: Some("resume") },
    Binding { keys: "n", map: &[(C('n'), A::Rename)], help: "name the selected past run", scope: Scope::Picker, views: &[], footer: None },
    Binding { keys: "d", map: &[(C('d'), A::SwitchEngine)], help: "train on the other engine (fast ↔ dfdx)", scope: Scope::Picker, views: &[], footer: None },
    Binding { keys: "D", map: &[(C('D'), A::Delete)], help: "delete the selected past run (asks first)", scope: Scope::Picker, views: &[], footer: None },
    Binding { keys: "b", map: &[(C('b'), A::Compare)], help: "add the past run to the comparison / take it out", scope: Scope::Picker, views: &[], footer: Some("compare") },
    Binding { keys: "b", map: &[(C('b'), A::Compare)], help: "clear the comparison (runs added with b in the picker)", scope: Scope::Run, views: &[View::Grid, View::Overlay], footer: None },
    Binding { keys: "y n", map: &[(C('y'), A::Yes), (C('Y'), A::Yes), (C('N'), A::No)], help: "answer a confirmation", scope: Scope::Everywhere, views: &[], footer: None },
    Binding { keys: "esc", map: &[(KeyCode::Esc, A::Back)], help: "close popup / back to picker when done", scope: Scope::Everywhere, views: &[], footer: None },
    Binding { keys: "?", map: &[(C('?'), A::Help)], help: "show / hide this help", scope: Scope::Everywhere, views: &[], footer: Some("help") },
    Binding { keys: "q", map: &[(C('q'), A::Quit)], help: "quit (asks while training)", scope: Scope::Everywhere, views: &[], footer: Some("quit") },
    Binding { keys: "click", map: &[], help: "pick a tab, variant, run, curve, cell or epoch; wheel scrolls", scope: Scope::Everywhere, views: &[], footer: None },
    Binding { keys: "ctrl-c", map: &[], help: "quit now (finished variants are on disk)", scope: Scope::Everywhere, views: &[], footer: None },
];

/// The key table as Markdown (keys, where they work, what they do): the README's keys
/// section is this text, kept equal by a test.
pub fn markdown_table() -> String {
    let mut out = String::from("| keys | where | what |\n|---|---|---|\n");
    for b in BINDINGS {
        let scope = match b.scope {
            Scope::Everywhere => "everywhere",
            Scope::Picker => "picker",
            Scope::Run => "a run",
            Scope::Training => "while training",
        };
        let place = if b.views.is_empty() {
            scope.to_string()
        } else {
            b.views
                .iter()
                .map(|v| v.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        // A `|` in a cell would end it.
        let keys = b.keys.replace('|', "\\|");
        out.push_str(&format!(
            "| `{keys}` | {place} | {} |\n",
            b.help.replace('|', "\\|")
        ));
    }
    out
}

/// Maps a key press to an action through the key table (ctrl-c is the one chord).
pub fn action_for(key: KeyEvent) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return (key.code == C('c')).then_some(Action::ForceQuit);
    }
    BINDINGS
        .iter()
        .flat_map(|b| b.map.iter())
        .find(|(code, _)| *code == key.code)
        .map(|(_, action)| *action)
}

/// The footer line for a scope: (keys, label) of the bindings marked for it.
pub fn footer(now: Scope, view: Option<View>) -> Vec<(&'static str, &'static str)> {
    bindings_in(now, view)
        .into_iter()
        .filter_map(|b| b.footer.map(|label| (b.keys, label)))
        .collect()
}
