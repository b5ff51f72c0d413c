#!/usr/bin/env bash
# A monkey test of the explorer: random clicks, drags, keys, typed values and window resizes, from
# a seed (the same seed, the same events), while it trains. Run under X (xvfb-run) by the test
# Explorer.SurvivesAMonkey, or by hand for longer:
#
#   xvfb-run -a -s "-screen 0 1920x1080x24" tests/helpers/monkey.sh SEED EVENTS DIR build/app/latent-explorer [flags...]
#
# DIR receives monkey.log (each event), rss.txt ("baseline_kb end_kb": resident memory after
# MONKEY_BASELINE_SECONDS, default 60, and at the end), rss.log (seconds and resident kB, every 5 s)
# and the app's stderr in app.err. MONKEY_SECONDS, when set, ends the run after that long (EVENTS
# then is an upper bound). Exits with the app's status (0 when it was still running at the end and closed cleanly);
# 124 when the app did not close within 60 s of SIGTERM (a hang).
set -u
seed=$1 events=$2 dir=$3
shift 3
mkdir -p "$dir"
cd "$dir" || exit 2  # whatever the monkey saves or exports by a relative path lands here
RANDOM=$seed
"$@" 2>app.err &
app=$!
win=$(xdotool search --sync --onlyvisible --name 'Latent Explorer' | head -n1)
[ -n "$win" ] || { echo "no window" >&2; exit 2; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$app/status" 2>/dev/null || echo 0; }
keys=(space s g r l m Escape Tab Return BackSpace Delete Up Down Left Right ctrl+a ctrl+equal ctrl+minus ctrl+0 F1 F5 F11)
texts=(-1 0 1e9 nan abc 0.5 99999 3 20 1,2 512,256 "" -0 1e-30 64)
start=$SECONDS baseline=0 baseline_at=${MONKEY_BASELINE_SECONDS:-60} until=${MONKEY_SECONDS:-0} next_sample=0
: >monkey.log
log() { echo "$((SECONDS - start)) $*" >>monkey.log; }  # each event, with the second it came at
: >rss.log
for ((i = 0; i < events; i++)); do
  kill -0 $app 2>/dev/null || break
  ((until > 0 && SECONDS - start >= until)) && break
  if ((SECONDS - start >= next_sample)); then echo "$((SECONDS - start)) $(rss)" >>rss.log; next_sample=$((next_sample + 5)); fi
  read -r w h < <(xdotool getwindowgeometry "$win" 2>/dev/null | awk '/Geometry/ {split($2, g, "x"); print g[1], g[2]}')
  w=${w:-1280} h=${h:-720}
  x=$((RANDOM % w)) y=$((22 + RANDOM % (h > 22 ? h - 22 : 1)))  # below the menu bar: File -> Quit would end the run
  case $((RANDOM % 20)) in
    0 | 1 | 2 | 3 | 4 | 5) log "click $x $y" ; xdotool mousemove --window "$win" $x $y click 1 ;;
    6) log "right-click $x $y" ; xdotool mousemove --window "$win" $x $y click 3 ;;
    7 | 8) x2=$((RANDOM % w)) y2=$((22 + RANDOM % (h > 22 ? h - 22 : 1)))
       log "drag $x $y $x2 $y2"
       xdotool mousemove --window "$win" $x $y mousedown 1 mousemove --window "$win" $x2 $y2 mouseup 1 ;;
    9 | 10 | 11) k=${keys[$((RANDOM % ${#keys[@]}))]}; log "key $k" ; xdotool key "$k" ;;
    12 | 13) t=${texts[$((RANDOM % ${#texts[@]}))]}; log "type '$t' at $x $y"
       xdotool mousemove --window "$win" $x $y click --repeat 2 1 type -- "$t"; xdotool key Return ;;
    14) m=$((RANDOM % 2)); log "menu ${m}"  # Run or View, and an entry of it
       xdotool mousemove --window "$win" $((63 + 44 * m)) 10 click 1 sleep 0.2 mousemove --window "$win" $((80 + 44 * m)) $((36 + 19 * (RANDOM % 12))) click 1 ;;
    15) nw=$((800 + RANDOM % 1100)) nh=$((600 + RANDOM % 450)); log "resize $nw $nh" ; xdotool windowsize "$win" $nw $nh ;;
    *) log "scroll $x $y" ; xdotool mousemove --window "$win" $x $y click $((4 + RANDOM % 2)) ;;
  esac
  sleep 0.0$((RANDOM % 10))
  if ((baseline == 0 && SECONDS - start >= baseline_at)); then baseline=$(rss); fi
done
end=$(rss)
echo "$((SECONDS - start)) $end" >>rss.log
echo "$baseline $end" >rss.txt
kill -0 $app 2>/dev/null || { wait $app; exit $?; }
kill -TERM $app
for ((t = 0; t < 600; t++)); do kill -0 $app 2>/dev/null || break; sleep 0.1; done
if kill -0 $app 2>/dev/null; then kill -KILL $app; echo "the app did not close within 60 s of SIGTERM" >&2; exit 124; fi
wait $app
