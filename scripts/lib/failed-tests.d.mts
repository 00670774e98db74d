export interface VitestJsonReport {
  testResults?: {
    name?: string;
    status?: string;
    message?: string;
    assertionResults?: { fullName: string; status: string; failureMessages?: string[] }[];
  }[];
}
export function failedTestLines(report: VitestJsonReport, root: string): string[];
export function summarizeReports(
  files: readonly string[],
  root: string,
): { tests: { passed: number; failed: number; skipped: number } | null; failedTests: string[] };
