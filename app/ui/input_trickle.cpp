#include "ui/input_trickle.h"

#include <algorithm>

namespace latent::ui {
namespace {

bool is_modifier(int key) { return key >= kFirstModifierKey && key <= kLastModifierKey; }

// A press that edits or moves rather than types: a function key, or any key with Ctrl, Alt or Super.
bool is_command(const InputEvent& e) {
  if (e.kind != InputEvent::Press) return false;
  if (is_modifier(e.key)) return false;
  if (e.mods & kCommandMods) return true;
  return e.key >= kFirstFunctionKey && !(e.key >= kFirstKeypadKey && e.key <= kLastKeypadTextKey);
}

}  // namespace

void InputTrickle::push(const InputEvent& event) {
  if (queue_.size() >= kMaxQueued) queue_.pop_front();
  queue_.push_back(event);
}

std::vector<InputEvent> InputTrickle::take_frame() {
  std::vector<InputEvent> out;
  std::vector<int> pressed, released;
  bool command = false;
  const bool settling = focus_frames_ > 0;
  if (settling) --focus_frames_;
  const auto has = [](const std::vector<int>& keys, int key) { return std::find(keys.begin(), keys.end(), key) != keys.end(); };
  while (!queue_.empty()) {
    const InputEvent& e = queue_.front();
    if (e.kind == InputEvent::Release && has(pressed, e.key)) break;
    if (e.kind == InputEvent::Press && (has(released, e.key) || has(pressed, e.key))) break;
    if (e.kind == InputEvent::Char && (command || settling)) break;
    if (e.kind == InputEvent::Press && e.key == kTabKey) focus_frames_ = kFocusFrames;
    if (e.kind == InputEvent::Press) pressed.push_back(e.key);
    if (e.kind == InputEvent::Release) released.push_back(e.key);
    command = command || is_command(e);
    out.push_back(e);
    queue_.pop_front();
  }
  return out;
}

}  // namespace latent::ui
