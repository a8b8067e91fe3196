// One color per run on the frontier chart (the reference point is drawn in black).
export const RUN_COLORS = ['#2563eb', '#ea580c', '#16a34a', '#7c3aed', '#db2777', '#0891b2', '#ca8a04', '#475569'];
export const runColor = (i: number): string => RUN_COLORS[i % RUN_COLORS.length];
