// A beep (WebAudio) and a buzz (Vibration API) for each code read: one short high tone when it is taken, two low
// ones when it is refused or looks forged, so a worker need not look at the screen.
let audio = null;

function tone(frequency, start, length) {
  const oscillator = audio.createOscillator();
  const gain = audio.createGain();
  oscillator.frequency.value = frequency;
  gain.gain.setValueAtTime(0.2, audio.currentTime + start);
  gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + start + length);
  oscillator.connect(gain).connect(audio.destination);
  oscillator.start(audio.currentTime + start);
  oscillator.stop(audio.currentTime + start + length);
}

export function signal(good) {
  try {
    audio ??= new AudioContext();
    if (good) tone(1760, 0, 0.09);
    else {
      tone(330, 0, 0.15);
      tone(330, 0.2, 0.15);
    }
  } catch {
    // No audio device (a kiosk without speakers): the screen and the vibration still tell.
  }
  if ("vibrate" in navigator) navigator.vibrate(good ? 60 : [120, 60, 120]);
}
