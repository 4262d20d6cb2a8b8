// Light or dark: the user's choice, remembered in this browser, else the system's.
const KEY = "boocode.theme";
const system = matchMedia("(prefers-color-scheme: dark)");

export function chosenTheme() {
  const stored = localStorage.getItem(KEY);
  return stored === "light" || stored === "dark" ? stored : null;
}

export function currentTheme() {
  return chosenTheme() || (system.matches ? "dark" : "light");
}

export function setTheme(theme) {
  localStorage.setItem(KEY, theme);
  apply();
}

function apply() {
  document.documentElement.dataset.theme = currentTheme();
}

system.addEventListener("change", apply);
apply();
