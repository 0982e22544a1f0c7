//! The README is a newcomer's page: at most 250 lines, its key table the app's own (the one
//! table that drives keys, footer and help), and every link it gives leads to a file.

use std::path::Path;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

#[test]
fn the_readmes_key_table_is_the_apps() {
    let text = readme();
    let begin = "<!-- keys:begin -->\n";
    let start = text.find(begin).expect("README has a keys:begin marker") + begin.len();
    let end = text[start..]
        .find("<!-- keys:end -->")
        .expect("README has a keys:end marker")
        + start;
    let expected = mnist_lab::tui::keys::markdown_table();
    assert!(
        text[start..end] == expected,
        "README's key table differs from the app's; put this between the markers:\n{expected}"
    );
}

#[test]
fn the_readme_is_short_and_every_link_leads_to_a_file() {
    let text = readme();
    let lines = text.lines().count();
    assert!(lines <= 250, "README.md has {lines} lines");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut links = 0;
    for part in text.split("](").skip(1) {
        let target = part.split(')').next().unwrap();
        if target.starts_with("http") || target.starts_with('#') {
            continue;
        }
        let file = target.split('#').next().unwrap();
        assert!(
            root.join(file).exists(),
            "README links to {target}, which is missing"
        );
        links += 1;
    }
    assert!(links >= 4, "{links} links");
}
