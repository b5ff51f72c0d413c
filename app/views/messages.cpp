// Messages: every error, refusal and notice of this session with the time it came, newest first.
// The banners above the windows show the recent ones; this keeps them all.
#include "views/view.h"

namespace latent::app {

class MessagesView final : public View {
 public:
  void draw(AppState& state, Gfx&, bool* open) override {
    if (!begin_panel("Messages", open)) return ImGui::End();
    if (ImGui::SmallButton("clear")) state.messages.clear();
    ImGui::SameLine();
    ImGui::Checkbox("errors only", &errors_only_);
    ImGui::SameLine();
    ImGui::TextDisabled("%zu messages", state.messages.size());
    ImGui::Separator();
    ImGui::BeginChild("list");
    ImGui::PushTextWrapPos(0);
    for (auto it = state.messages.rbegin(); it != state.messages.rend(); ++it) {
      if (errors_only_ && !it->error) continue;
      ImGui::TextDisabled("%s", it->clock.c_str());
      ImGui::SameLine();
      ImGui::PushStyleColor(ImGuiCol_Text, it->error ? ImVec4(1.0f, 0.5f, 0.45f, 1) : ImVec4(0.65f, 0.95f, 0.65f, 1));
      if (it->repeats > 1) ImGui::Text("%s (x%d)", it->text.c_str(), it->repeats);
      else ImGui::TextUnformatted(it->text.c_str());
      ImGui::PopStyleColor();
    }
    ImGui::PopTextWrapPos();
    ImGui::EndChild();
    ImGui::End();
  }

 private:
  bool errors_only_ = false;
};

std::unique_ptr<View> make_messages_view() { return make_view<MessagesView>(); }

}  // namespace latent::app
