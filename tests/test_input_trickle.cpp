// The keyboard queue between GLFW and ImGui: nothing is lost, and each frame gets what it can show.
#include <gtest/gtest.h>

#include "ui/input_trickle.h"

namespace latent::ui {
namespace {

constexpr int kTab = 258, kB = 66, kA = 65, kFive = 53, kEnter = 257, kBackspace = 259, kLeftCtrl = 341, kCtrl = 0x0002, kKeypad5 = 325;

InputEvent press(int key, int mods = 0) { return {InputEvent::Press, key, 0, mods, 0}; }
InputEvent release(int key, int mods = 0) { return {InputEvent::Release, key, 0, mods, 0}; }
InputEvent text(unsigned int c) { return {InputEvent::Char, 0, 0, 0, c}; }

std::string describe(const std::vector<InputEvent>& frame) {
  std::string out;
  for (const InputEvent& e : frame) {
    if (!out.empty()) out += ' ';
    if (e.kind == InputEvent::Char) out += "'" + std::string(1, char(e.code)) + "'";
    else out += (e.kind == InputEvent::Press ? "+" : "-") + std::to_string(e.key);
  }
  return out;
}

TEST(InputTrickle, ATapBetweenTwoFramesIsDownForOneFrameThenUp) {
  InputTrickle q;
  q.push(press(kEnter));
  q.push(release(kEnter));
  EXPECT_EQ(describe(q.take_frame()), "+257");
  EXPECT_TRUE(q.pending());
  EXPECT_EQ(describe(q.take_frame()), "-257");
  EXPECT_FALSE(q.pending());
  EXPECT_EQ(describe(q.take_frame()), "");
}

TEST(InputTrickle, CtrlAThenTypedTextKeepsItsOrder) {
  // xdotool's "key ctrl+a" then "type 5", all between two frames: Ctrl+A must select before the 5
  // replaces the selection, so the 5 waits for the next frame.
  InputTrickle q;
  for (const InputEvent& e : {press(kLeftCtrl), press(kA, kCtrl), release(kA, kCtrl), release(kLeftCtrl), press(kFive), text('5'),
                              release(kFive), press(kEnter), release(kEnter)})
    q.push(e);
  EXPECT_EQ(describe(q.take_frame()), "+341 +65");
  EXPECT_EQ(describe(q.take_frame()), "-65 -341 +53 '5'");
  EXPECT_EQ(describe(q.take_frame()), "-53 +257");
  EXPECT_EQ(describe(q.take_frame()), "-257");
  EXPECT_FALSE(q.pending());
}

TEST(InputTrickle, TextAfterEnterOrBackspaceWaitsButPlainTypingDoesNot) {
  InputTrickle q;
  for (const InputEvent& e : {text('a'), text('b'), press(kBackspace), text('c')}) q.push(e);
  EXPECT_EQ(describe(q.take_frame()), "'a' 'b' +259");  // ImGui applies text first: a, b, then Backspace
  EXPECT_EQ(describe(q.take_frame()), "'c'");
  // Keypad digits type text: they are not command keys.
  q.push(press(kKeypad5));
  q.push(text('5'));
  EXPECT_EQ(describe(q.take_frame()), "+325 '5'");
}

TEST(InputTrickle, TheSameKeyTwiceInOneFrameIsTwoPresses) {
  InputTrickle q;
  for (int i = 0; i < 2; ++i) {
    q.push(press(kBackspace));
    q.push(release(kBackspace));
  }
  EXPECT_EQ(describe(q.take_frame()), "+259");
  EXPECT_EQ(describe(q.take_frame()), "-259");
  EXPECT_EQ(describe(q.take_frame()), "+259");
  EXPECT_EQ(describe(q.take_frame()), "-259");
}

TEST(InputTrickle, AFloodIsBoundedAndKeepsTheNewest) {
  InputTrickle q;
  for (int i = 0; i < 100000; ++i) q.push(text('x'));
  q.push(text('y'));
  const auto frame = q.take_frame();
  ASSERT_LE(frame.size(), 4096u);
  EXPECT_EQ(frame.back().code, unsigned('y'));
}

TEST(InputTrickle, TextTypedAfterTabWaitsAFrameForTheNextField) {
  // xdotool's "key Tab" then "type ba": the next field takes the keyboard a frame after the Tab, so
  // the text waits a frame more than it would after another command key; none of it is lost.
  InputTrickle q;
  for (const InputEvent& e : {press(kTab), release(kTab), press(kB), text('b'), release(kB), press(kA), text('a'), release(kA)}) q.push(e);
  EXPECT_EQ(describe(q.take_frame()), "+258");
  EXPECT_EQ(describe(q.take_frame()), "-258 +66");
  EXPECT_EQ(describe(q.take_frame()), "'b' -66 +65 'a'");
  EXPECT_EQ(describe(q.take_frame()), "-65");
  EXPECT_FALSE(q.pending());
  // Without a Tab, the same text goes at once.
  for (const InputEvent& e : {press(kB), text('b'), release(kB)}) q.push(e);
  EXPECT_EQ(describe(q.take_frame()), "+66 'b'");
}

}  // namespace
}  // namespace latent::ui
