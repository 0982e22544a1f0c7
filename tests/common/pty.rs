//! The real binary in a pseudo-terminal, its screen parsed by vt100 (tests and benches).

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, Child, CommandBuilder, PtySize};

pub struct PtyApp {
    pub parser: Arc<Mutex<vt100::Parser>>,
    keys: Box<dyn Write + Send>,
    pub child: Box<dyn Child + Send + Sync>,
}

impl PtyApp {
    /// Starts `mnist-lab ARGS` in a rows × cols terminal, in the crate's folder.
    pub fn spawn(args: &[&std::ffi::OsStr], rows: u16, cols: u16) -> Self {
        PtyApp::spawn_env(args, &[], rows, cols)
    }

    /// `spawn` with extra environment variables.
    pub fn spawn_env(
        args: &[&std::ffi::OsStr],
        env: &[(&str, &std::ffi::OsStr)],
        rows: u16,
        cols: u16,
    ) -> Self {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_mnist-lab"));
        cmd.args(args);
        cmd.cwd(env!("CARGO_MANIFEST_DIR"));
        cmd.env("TERM", "xterm-256color");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            rows.try_into().unwrap(),
            cols.try_into().unwrap(),
            0,
        )));
        let mut reader = pair.master.try_clone_reader().unwrap();
        let feed = parser.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                feed.lock().unwrap().process(&buf[..n]);
            }
        });
        PtyApp {
            parser,
            keys: pair.master.take_writer().unwrap(),
            child,
        }
    }

    pub fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// Waits until the screen shows `needle`; returns the screen, or panics with it.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> String {
        self.wait_polling(needle, timeout, Duration::from_micros(500))
    }

    /// `wait_for` reading the screen every `poll` (reading it costs CPU the app may need).
    pub fn wait_polling(&self, needle: &str, timeout: Duration, poll: Duration) -> String {
        let start = Instant::now();
        loop {
            let t = self.screen();
            if t.contains(needle) {
                return t;
            }
            assert!(
                start.elapsed() < timeout,
                "timed out waiting for {needle:?}; screen:\n{t}"
            );
            std::thread::sleep(poll);
        }
    }

    pub fn press(&mut self, keys: &str) {
        self.keys.write_all(keys.as_bytes()).unwrap();
        self.keys.flush().unwrap();
    }
}
