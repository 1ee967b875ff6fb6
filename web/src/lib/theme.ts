/** Dark/light theme: the class on <html> (set before paint by index.html), remembered per browser. */
export function isDark(): boolean {
  return document.documentElement.classList.contains("dark");
}

export function setTheme(dark: boolean): void {
  document.documentElement.classList.toggle("dark", dark);
  try {
    localStorage.setItem("townhall.theme", dark ? "dark" : "light");
  } catch {
    // storage disabled: the choice lasts for this page only
  }
}
