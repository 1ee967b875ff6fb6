import { lazy } from "solid-js";
import { render } from "solid-js/web";
import { Route, Router } from "@solidjs/router";
import "./styles.css";
import { TownShell } from "./shell/town-shell.tsx";
import { RigShell } from "./shell/rig-shell.tsx";
import { NoTown, NotFound } from "./shell/pages.tsx";
import { takeTokenFromAddress } from "./lib/session.ts";

// Before anything reads the address: a token in it is kept (lib/session.ts) and taken out of it.
takeTokenFromAddress();

// Views load on first use, so the entry chunk holds only the shell, the router and the Yjs replica.
const Overview = lazy(() => import("./views/overview.tsx"));
const RigBoard = lazy(() => import("./views/rig-board.tsx"));
const BeadView = lazy(() => import("./views/bead.tsx"));
const AgentView = lazy(() => import("./views/agent.tsx"));
const ConvoyView = lazy(() => import("./views/convoy.tsx"));
const MailView = lazy(() => import("./views/mail.tsx"));
const AuditView = lazy(() => import("./views/audit.tsx"));

const root = document.getElementById("root")!;
root.textContent = ""; // the loading skeleton index.html shows until this script runs
render(
  () => (
    <Router>
      <Route path="/t/:town" component={TownShell}>
        <Route path="/" component={Overview} />
        <Route path="/rigs/:rig" component={RigShell}>
          <Route path="/" component={RigBoard} />
          <Route path="/beads/:bead" component={BeadView} />
          <Route path="/agents/:name" component={AgentView} />
        </Route>
        <Route path="/convoys/:convoy" component={ConvoyView} />
        <Route path="/mail" component={MailView} />
        <Route path="/audit" component={AuditView} />
        <Route path="*" component={NotFound} />
      </Route>
      <Route path="/" component={NoTown} />
      <Route path="*" component={NotFound} />
    </Router>
  ),
  root,
);
