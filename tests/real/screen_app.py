"""A tiny Tk app for the Xvfb tests, run as its own process (Xlib exits a process whose X server goes away, so
Tk must not live in the pytest process). Reads commands on stdin, answers "ok" once the drawing is flushed:
  show SEED   fill the window with a page of text
  warp X Y    move the pointer
  quit
"""

from __future__ import annotations

import itertools
import sys
import tkinter

LOREM = [
    "The quick brown fox jumps over the lazy dog while the compiler warns about unused imports.",
    "def second_largest(nums): return sorted(set(nums))[-2]  # what if there is only one value?",
    "Meeting notes: ship the screen gate, measure the encoder, then wire the overlay hotkeys.",
]


def main() -> None:
    root = tkinter.Tk()
    root.geometry(f"{root.winfo_screenwidth()}x{root.winfo_screenheight()}+0+0")
    text = tkinter.Text(root, font=("TkFixedFont", 14), background="white", borderwidth=0)
    text.pack(fill="both", expand=True)
    for line in itertools.chain(["show 0"], sys.stdin):
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "show":
            seed = int(cmd[1])
            text.delete("1.0", "end")
            for i in range(30):
                text.insert("end", f"{i + seed:3d}  {LOREM[(i + seed) % len(LOREM)]}\n")
        elif cmd[0] == "warp":
            root.event_generate("<Motion>", warp=True, x=int(cmd[1]), y=int(cmd[2]))
        elif cmd[0] == "quit":
            break
        root.update()
        root.update_idletasks()
        root.winfo_pointerxy()  # a round trip: the server has processed our requests
        print("ok", flush=True)
    root.destroy()


if __name__ == "__main__":
    main()
