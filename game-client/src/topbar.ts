// The in-game top bar: its buttons in a row when they fit, else folded into a menu under a ☰ button.

/** The bar's children may not shrink below their content, so "does not fit" is "scrolls". */
const SLACK = 1;

export class TopBar {
  private readonly bar: HTMLElement;
  private readonly buttons: HTMLElement;
  private readonly toggle: HTMLButtonElement;

  constructor() {
    this.bar = document.querySelector<HTMLElement>(".topbar")!;
    this.buttons = document.getElementById("hud-buttons")!;
    this.toggle = document.getElementById("menu-toggle") as HTMLButtonElement;
    this.toggle.addEventListener("click", (e) => {
      e.stopPropagation();
      this.setOpen(!this.open);
    });
    // Choosing an item, or clicking anywhere else, closes the menu.
    this.buttons.addEventListener("click", () => this.setOpen(false));
    document.addEventListener("pointerdown", (e) => {
      if (this.open && !this.bar.contains(e.target as Node)) this.setOpen(false);
    });
    window.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && this.open) this.setOpen(false);
    });
    // Refit whenever the bar's width or its content (lobby name, a Host badge, Restart round) changes.
    const refit = (): void => this.fit();
    new ResizeObserver(refit).observe(this.bar);
    new MutationObserver(refit).observe(this.bar, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["hidden"] });
  }

  get open(): boolean {
    return this.bar.classList.contains("menu-open");
  }

  /** Row or menu: tries the row, and folds it when the bar then overflows (both in one layout pass, no flicker). */
  fit(): void {
    if (this.bar.offsetParent === null) return; // hidden: nothing to measure; the observers call again when shown
    const was = this.bar.classList.contains("compact");
    this.bar.classList.remove("compact");
    const compact = this.bar.scrollWidth > this.bar.clientWidth + SLACK;
    this.bar.classList.toggle("compact", compact);
    if (was !== compact && !compact) this.setOpen(false);
  }

  private setOpen(open: boolean): void {
    this.bar.classList.toggle("menu-open", open);
    this.toggle.setAttribute("aria-expanded", String(open));
  }
}
