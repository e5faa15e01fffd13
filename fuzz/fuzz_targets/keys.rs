//! Key events to codes (`scanners::keys::KeyDecoder`), as `scanners::hid` feeds them. Each 6 bytes
//! of input are one event: time step (u16 LE, microseconds), type (0 SYN, 1 KEY, else raw), code
//! (u8: key codes 0-255 cover every key a scanner sends), value (i8). Properties: a code is never
//! longer than the cap, never empty, and holds only characters a key types.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use scanstation::scanners::keys::{KeyDecoder, KeyEvent, KeyOutput};

fuzz_target!(|data: &[u8]| {
    let Some((&cap, data)) = data.split_first() else {
        return;
    };
    let max_len = usize::from(cap % 64) + 1;
    let mut decoder = KeyDecoder::new(Duration::from_millis(50), max_len);
    let mut now: u64 = 0;
    let check = |out: Option<KeyOutput>| {
        if let Some(KeyOutput::Code(code)) = out {
            let n = code.chars().count();
            assert!(
                n >= 1 && n <= max_len,
                "code of {n} characters, cap {max_len}"
            );
            assert!(
                !code.chars().any(char::is_control),
                "control character in {code:?}"
            );
        }
    };
    for ev in data.chunks_exact(6) {
        now = now.saturating_add(u64::from(u16::from_le_bytes([ev[0], ev[1]])));
        let kind = match ev[2] {
            0 => 0,
            1 => 1,
            k => u16::from(k),
        };
        let code = u16::from(ev[3]);
        let value = i32::from(ev[4] as i8);
        if ev[5] == 0xFF {
            check(decoder.disconnect());
            continue;
        }
        check(decoder.feed(KeyEvent::new(now, kind, code, value)));
    }
});
