// The plugin's main thread: shows the UI, applies the plan it receives to a copy of the selected template frame.
import { applyPlan, checkPlan } from "./apply";

figma.showUI(__html__, { width: 400, height: 600, themeColors: true });

figma.ui.onmessage = async (message: { type: string; plan?: unknown }) => {
  if (message.type !== "apply") return;
  try {
    const plan = checkPlan(message.plan);
    const report = await applyPlan(figma, plan, { roots: figma.currentPage.selection });
    if (report.copy) {
      const copy = await figma.getNodeByIdAsync(report.copy);
      if (copy) figma.currentPage.selection = [copy as SceneNode];
    }
    figma.ui.postMessage({ type: "report", report, missing: plan.missing_fields, overflow: plan.overflow });
    figma.notify(report.unapplied.length ? `${report.unapplied.length} change(s) could not be applied`
      : `Applied ${report.applied} change(s)`);
  } catch (e) {
    figma.ui.postMessage({ type: "error", message: (e as Error).message ?? String(e) });
  }
};
