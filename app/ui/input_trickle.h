#pragma once
// Keyboard input handed to ImGui a frame at a time, in the order it happened. ImGui 1.86 reads
// whether a key is down when a frame starts, so a key pressed and released between two frames (a
// quick tap on a slow frame, Ctrl+A from a script) would never be seen, and text typed after a
// command key would be applied before it. The queue keeps every event and releases, each frame,
// the longest run of them that one frame can show faithfully.
#include <cstddef>
#include <deque>
#include <vector>

namespace latent::ui {

struct InputEvent {
  // No Repeat: ImGui 1.86 makes its own repeats from how long a key is down (its GLFW backend ignores
  // GLFW's), and queued repeats would only hold a key down after it was let go.
  enum Kind { Press, Release, Char } kind = Press;
  int key = 0;           // GLFW key code (Press, Release)
  int scancode = 0;
  int mods = 0;          // GLFW modifier bits
  unsigned int code = 0;  // the character (Char)
};

// GLFW's codes, kept here so that the rule is testable without a window.
constexpr int kFirstFunctionKey = 256;            // GLFW_KEY_ESCAPE: keys from here on type no text...
constexpr int kFirstKeypadKey = 320, kLastKeypadTextKey = 334;  // ...except the keypad's digits and signs
constexpr int kFirstModifierKey = 340, kLastModifierKey = 347;  // Shift, Ctrl, Alt, Super (left, right)
constexpr int kCommandMods = 0x0002 | 0x0004 | 0x0008;          // Ctrl, Alt, Super
constexpr int kTabKey = 258;                                    // moves the keyboard to the next field

class InputTrickle {
 public:
  void push(const InputEvent& event);
  // The events for this frame. It stops before an event that would undo one of this frame's (the
  // release of a key pressed in it, a second press of a key released in it) and before text that
  // follows a command key (Enter, Backspace, arrows, Ctrl+...): ImGui applies a frame's text first.
  // Text typed after Tab waits a frame more: ImGui gives the next field the keyboard a frame after
  // the Tab, and text arriving before would reach no field.
  std::vector<InputEvent> take_frame();
  bool pending() const { return !queue_.empty(); }

 private:
  std::deque<InputEvent> queue_;
  static constexpr int kFocusFrames = 1;  // frames after a Tab that take no text
  int focus_frames_ = 0;
  static constexpr size_t kMaxQueued = 4096;  // a stuck frame must not grow the queue without bound
};

}  // namespace latent::ui
