// The web console's entry point (built into dist/assets/console/console.js, served at /console).
import { render } from "preact";
import { App } from "./app";
import "./console.css";

const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<App />, root);
}
