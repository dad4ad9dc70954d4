"""Global (system-wide) hotkeys for the overlay: parsing the configured specs, and grabbing them on X11.

Qt has no system-wide shortcuts, so the keys are grabbed with XGrabKey on the root window through its own
python-xlib connection, read by a small thread. A grab consumes the key (the focused app does not also get
it), and a key another program already grabbed is reported, not silently lost. Wayland has no global grab for
ordinary clients: there `start` raises `HotkeysUnavailable` with one message, and the overlay's in-window
shortcuts (same keys, as QShortcuts) still work. pynput was the other candidate; it listens through the
XRecord extension (no grab: the key also reaches the focused app) and pulls `evdev`, which builds from source.
"""

from __future__ import annotations

import logging
import os
import select
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

log = logging.getLogger("rholive.ui.overlay_hotkeys")  # its name before the move, as logs show it

# Spec modifier -> (X modifier mask name, Qt key-sequence name).
_MODIFIERS: dict[str, tuple[str, str]] = {
    "ctrl": ("ControlMask", "Ctrl"),
    "control": ("ControlMask", "Ctrl"),
    "alt": ("Mod1Mask", "Alt"),
    "shift": ("ShiftMask", "Shift"),
    "super": ("Mod4Mask", "Meta"),
    "meta": ("Mod4Mask", "Meta"),
    "win": ("Mod4Mask", "Meta"),
}
# Spec key -> (X keysym name, Qt key name), for keys whose names differ or are words.
_KEYS: dict[str, tuple[str, str]] = {
    "space": ("space", "Space"),
    "enter": ("Return", "Return"),
    "return": ("Return", "Return"),
    "esc": ("Escape", "Esc"),
    "escape": ("Escape", "Esc"),
    "tab": ("Tab", "Tab"),
    "backspace": ("BackSpace", "Backspace"),
    "insert": ("Insert", "Ins"),
    "delete": ("Delete", "Del"),
    "home": ("Home", "Home"),
    "end": ("End", "End"),
    "pageup": ("Prior", "PgUp"),
    "pagedown": ("Next", "PgDown"),
    "up": ("Up", "Up"),
    "down": ("Down", "Down"),
    "left": ("Left", "Left"),
    "right": ("Right", "Right"),
    **{f"f{n}": (f"F{n}", f"F{n}") for n in range(1, 25)},
}


class HotkeyError(ValueError):
    """A hotkey spec that cannot be parsed, e.g. 'ctrl+alt+' or 'hyper+x'."""


class HotkeysUnavailable(RuntimeError):
    """Global hotkeys cannot work here (Wayland, no display, python-xlib missing); the reason is the message."""


@dataclass(frozen=True)
class Hotkey:
    modifiers: frozenset[str]  # canonical: ctrl, alt, shift, super
    key: str  # lower case: a letter, digit or a name from _KEYS

    def qt_sequence(self) -> str:
        """The same key as a Qt key sequence, e.g. 'Ctrl+Alt+Space', for the in-window QShortcut."""
        order = ["ctrl", "alt", "shift", "super"]
        mods = [_MODIFIERS[m][1] for m in order if m in self.modifiers]
        key = _KEYS[self.key][1] if self.key in _KEYS else self.key.upper()
        return "+".join([*mods, key])

    def x_keysym_name(self) -> str:
        return _KEYS[self.key][0] if self.key in _KEYS else self.key


def parse_hotkey(spec: str) -> Hotkey:
    """'ctrl+alt+space' -> Hotkey({'ctrl', 'alt'}, 'space'). Case and spaces do not matter."""
    parts = [p.strip().lower() for p in spec.split("+")]
    if len(parts) < 2 or not all(parts):
        raise HotkeyError(f"hotkey {spec!r}: expected modifiers and a key, e.g. 'ctrl+alt+space'")
    *mods, key = parts
    canonical: set[str] = set()
    for mod in mods:
        if mod not in _MODIFIERS:
            raise HotkeyError(f"hotkey {spec!r}: unknown modifier {mod!r} (use ctrl, alt, shift, super)")
        canonical.add({"control": "ctrl", "meta": "super", "win": "super"}.get(mod, mod))
    if not (key in _KEYS or (len(key) == 1 and key.isascii() and key.isalnum())):
        raise HotkeyError(f"hotkey {spec!r}: unknown key {key!r} (a letter, a digit, space, f1..f24, ...)")
    return Hotkey(frozenset(canonical), key)


@dataclass(frozen=True)
class HotkeySettings:
    """Action -> hotkey spec. An empty spec turns that hotkey off."""

    ask_now: str = "ctrl+alt+space"
    toggle_listening: str = "ctrl+alt+p"
    toggle_visible: str = "ctrl+alt+h"
    toggle_click_through: str = "ctrl+alt+t"

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> HotkeySettings:
        unknown = set(values) - set(asdict(cls()))
        if unknown:
            raise HotkeyError(f"unknown hotkey action(s): {', '.join(sorted(unknown))}")
        return cls(**{k: str(v) for k, v in values.items()})

    def bindings(self) -> dict[str, Hotkey]:
        """Action -> parsed hotkey, checked: a bad spec or two actions on one key is a HotkeyError."""
        parsed = {action: parse_hotkey(spec) for action, spec in asdict(self).items() if spec}
        seen: dict[Hotkey, str] = {}
        for action, key in parsed.items():
            if key in seen:
                raise HotkeyError(f"hotkeys {seen[key]} and {action} are the same key ({key.qt_sequence()})")
            seen[key] = action
        return parsed


def on_wayland() -> bool:
    return bool(os.environ.get("WAYLAND_DISPLAY")) or os.environ.get("XDG_SESSION_TYPE") == "wayland"


class GlobalHotkeys:
    """XGrabKey on the root window of `display` (default $DISPLAY); `on_action(name)` runs in its thread."""

    def __init__(
        self, bindings: Mapping[str, Hotkey], on_action: Callable[[str], None], display: str | None = None
    ) -> None:
        self._bindings = dict(bindings)
        self._on_action = on_action
        self._display_name = display
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = -1, -1
        self._locks: list[int] = []
        self.failed: dict[str, str] = {}  # action -> why its key could not be grabbed

    def start(self) -> None:
        """Grab the keys and start reading them. Raises HotkeysUnavailable when none can work here;
        keys that another program holds are left in `failed` and the rest work."""
        name = self._display_name or os.environ.get("DISPLAY")
        if not name:
            why = "Wayland has no global hotkeys for apps" if on_wayland() else "no X display (DISPLAY unset)"
            raise HotkeysUnavailable(f"global hotkeys off: {why}; the overlay's own shortcuts still work")
        try:
            from Xlib import XK, X, display, error
        except ImportError as exc:
            raise HotkeysUnavailable(
                "global hotkeys off: python-xlib is not installed (the gui extra)"
            ) from exc
        try:
            disp = display.Display(name)
        except (error.DisplayError, error.ConnectionClosedError, OSError) as exc:
            raise HotkeysUnavailable(f"global hotkeys off: cannot open X display {name}: {exc}") from exc
        root = disp.screen().root
        # NumLock (Mod2) and CapsLock (Lock) must not stop a hotkey: grab it with each combination of them.
        locks = self._locks = [0, X.LockMask, X.Mod2Mask, X.LockMask | X.Mod2Mask]
        wanted: dict[tuple[int, int], str] = {}
        for action, hotkey in self._bindings.items():
            keycode = disp.keysym_to_keycode(XK.string_to_keysym(hotkey.x_keysym_name()))
            if not keycode:
                self.failed[action] = f"{hotkey.qt_sequence()}: no such key on this keyboard"
                continue
            mask = 0
            for mod in hotkey.modifiers:
                mask |= getattr(X, _MODIFIERS[mod][0])
            catch = error.CatchError(error.BadAccess)
            for lock in locks:
                root.grab_key(keycode, mask | lock, True, X.GrabModeAsync, X.GrabModeAsync, onerror=catch)
            disp.sync()
            if catch.get_error() is not None:
                self.failed[action] = f"{hotkey.qt_sequence()} is already taken by another program"
                for lock in locks:
                    root.ungrab_key(keycode, mask | lock)
                continue
            wanted[(keycode, mask)] = action
        disp.sync()
        self._wake_r, self._wake_w = os.pipe()
        relevant = X.ControlMask | X.Mod1Mask | X.ShiftMask | X.Mod4Mask
        self._thread = threading.Thread(
            target=self._run,
            args=(disp, root, wanted, relevant, X.KeyPress),
            name="rholive-hotkeys",
            daemon=True,
        )
        self._thread.start()
        if on_wayland():
            log.warning("global hotkeys on XWayland only fire while an X11 window has focus")

    def _run(
        self, disp: Any, root: Any, wanted: dict[tuple[int, int], str], relevant: int, press: int
    ) -> None:
        try:
            while True:
                while disp.pending_events():
                    event = disp.next_event()
                    if event.type != press:
                        continue
                    action = wanted.get((event.detail, event.state & relevant))
                    if action is not None:
                        try:
                            self._on_action(action)
                        except Exception:  # a failing action must not end the hotkeys
                            log.exception("hotkey action %s failed", action)
                readable, _, _ = select.select([disp.fileno(), self._wake_r], [], [])
                if self._wake_r in readable:
                    break
        finally:
            for keycode, mask in wanted:
                for lock in self._locks:
                    root.ungrab_key(keycode, mask | lock)
            disp.close()

    def grabbed(self) -> list[str]:
        """The actions whose keys are held (after `start`)."""
        return [action for action in self._bindings if action not in self.failed] if self._thread else []

    def stop(self) -> None:
        if self._thread is None:
            return
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=5)
        os.close(self._wake_r)
        os.close(self._wake_w)
        self._thread = None
