#pragma once
// The prior p(z) drawn on the pad as density contours: the boundaries of its highest-density
// regions holding 39 %, 86 % and 99 % of its mass over the pad. For N(0, I) in two dims those are
// exactly the circles of radius 1, 2 and 3 (mass 1 − e^(−r²/2)); for a learned prior they show
// the shape the KL term pulls q(z|x) towards.
#include <array>
#include <vector>

namespace latent::ui {

// The masses of the three contours: those of N(0, I₂) inside radius 1, 2 and 3.
inline constexpr std::array<double, 3> kContourMasses = {0.3935, 0.8647, 0.9889};

// For each mass m, the density level whose superset {p ≥ level} holds m of the grid's total mass.
// `density` is any non-negative grid (equal cells); an empty or all-zero grid gives levels of 0.
std::vector<float> hpd_levels(const std::vector<float>& density, const std::vector<double>& masses);

// A line segment in latent coordinates, and which contour (index into the levels) it belongs to.
struct ContourSegment {
  float x0, y0, x1, y1;
  int contour;
};

// Marching squares over a resolution² grid of cell-centre values covering [−extent, extent]²
// (row-major, top row = +extent): the segments where the density crosses each level.
std::vector<ContourSegment> contour_segments(const std::vector<float>& density, int resolution, float extent,
                                             const std::vector<float>& levels);

}  // namespace latent::ui
