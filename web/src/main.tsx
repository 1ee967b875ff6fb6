import { render } from "solid-js/web";
import { Router, Route, Navigate } from "@solidjs/router";
import "./styles.css";
import { TownOverview } from "./town-overview.tsx";

function NoTown() {
  return (
    <main class="mx-auto max-w-xl p-8">
      <h1 class="text-2xl font-semibold">Townhall</h1>
      <p class="mt-4 text-slate-300">
        Open a town with <code class="rounded bg-slate-800 px-1">/t/&lt;town&gt;?token=&lt;token&gt;</code>. <code>npm start</code> prints such a
        link.
      </p>
    </main>
  );
}

render(
  () => (
    <Router>
      <Route path="/t/:town" component={TownOverview} />
      <Route path="/" component={NoTown} />
      <Route path="*" component={() => <Navigate href="/" />} />
    </Router>
  ),
  document.getElementById("root")!,
);
