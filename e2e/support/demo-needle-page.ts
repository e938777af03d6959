// Shared by the demo's needle specs: the offline needle test model and the question-and-check step.
import { expect, type Page } from '@playwright/test';

/** tools/fixtures/needle-vlm/, served with the page (the demo's model picker lists it). */
export const NEEDLE_MODEL = '/tools/fixtures/needle-vlm/';

export async function loadNeedleModel(page: Page, query: string): Promise<void> {
  await page.goto(`/?model=${NEEDLE_MODEL}${query}`);
  await page.getByRole('button', { name: 'Load model' }).click();
  await expect(page.locator('#model-info')).toContainText('Ready', { timeout: 90_000 });
}

/** Types the question, waits for the answer and returns the frame indices of the moments it used. */
export async function ask(page: Page, question: string): Promise<number[]> {
  await page.getByLabel('Question').fill(question);
  await page.getByRole('button', { name: 'Ask' }).click();
  await expect(page.locator('#answer')).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
  return ((await page.locator('#answer').getAttribute('data-moments')) ?? '').split(',').filter((x) => x !== '').map(Number);
}

/** The answer is `answer`, and the needle's frame is a moment it used, outlined on the timeline as kept in memory. */
export async function askAndCheck(page: Page, question: string, answer: string, needleFrame: number): Promise<void> {
  const moments = await ask(page, question);
  await expect(page.locator('#answer')).toHaveText(answer);
  expect(moments).toContain(needleFrame);
  const frame = page.locator(`#timeline button.frame[data-frame-index="${needleFrame}"]`);
  await expect(frame).toHaveClass(/\bused\b/);
  await expect(frame).toHaveClass(/\bin-memory\b/);
}
