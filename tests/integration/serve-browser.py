#!/usr/bin/env python3
"""serve-browser.py URL SHOTS TOKEN - drive the triage screen in headless chromium.

Loads the matrix, filters, moves with j/k and /, opens the fix, records a
decision with TOKEN, sees it in the history and the matrix; screenshots of
each view into SHOTS.  The fix subject and the vendor branch name hold HTML
(lib-serve.sh XSS=1): every view must show them as text, and nothing may
run.  Prints 'ok - ...' lines; exits 1 on failure.
"""
import os
import sys
import tempfile
import shutil

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait, Select

url, shots, token = sys.argv[1], sys.argv[2], sys.argv[3]
subj = 'net: fix <script>window.__xss=1</script><img src=x onerror="window.__xss=2"> frob'
branch = 'acme<svg/onload=window.__xss=3>'
os.makedirs(shots, exist_ok=True)
profile = tempfile.mkdtemp(prefix='pg-chromium-')
opts = webdriver.ChromeOptions()
opts.binary_location = '/usr/bin/chromium'
for a in ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
          '--disable-background-networking', '--disable-component-update', '--disable-sync',
          '--disable-dev-shm-usage', '--window-size=1280,900', '--user-data-dir=' + profile]:
    opts.add_argument(a)
nfail = 0


def check(desc, cond):
    global nfail
    print(('ok - ' if cond else 'not ok - ') + desc)
    if not cond:
        nfail += 1


drv = webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=opts)
try:
    wait = WebDriverWait(drv, 20)
    drv.get(url + '/')
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#rows tr.row'))
    rows = drv.find_elements(By.CSS_SELECTOR, '#rows tr.row')
    heads = [h.text for h in drv.find_elements(By.CSS_SELECTOR, 'th.branch')]
    drv.save_screenshot(os.path.join(shots, 'matrix.png'))
    check('matrix: one fix row, three branch columns', len(rows) == 1 and len(heads) == 3)
    cells = [c.text for c in rows[0].find_elements(By.CSS_SELECTOR, 'td.cell')]
    check('matrix: vendor open, others fixed (%s)' % cells, cells == ['fixed', 'fixed', 'open'])
    check('matrix: open count per branch', '1 open' in heads[2] and '0 open' in heads[0])
    check('xss: subject shown as text in the matrix', subj in drv.find_element(By.ID, 'matrix').text)
    check('xss: branch name shown as text', branch in heads[2])
    body = drv.find_element(By.TAG_NAME, 'body')
    body.send_keys('/')
    check('/ focuses the search', drv.switch_to.active_element.get_attribute('id') == 'f-q')
    drv.switch_to.active_element.send_keys('no such fix')
    check('search filters rows away', len(drv.find_elements(By.CSS_SELECTOR, '#rows tr.row')) == 0)
    q = drv.find_element(By.ID, 'f-q')
    q.send_keys(Keys.CONTROL, 'a')
    q.send_keys(Keys.BACKSPACE)
    q.send_keys('frob')
    check('search keeps matches', len(drv.find_elements(By.CSS_SELECTOR, '#rows tr.row')) == 1)
    Select(drv.find_element(By.ID, 'f-decided')).select_by_value('decided')
    check('decided filter: nothing decided yet', len(drv.find_elements(By.CSS_SELECTOR, '#rows tr.row')) == 0)
    Select(drv.find_element(By.ID, 'f-decided')).select_by_value('')
    drv.switch_to.active_element.send_keys(Keys.ESCAPE)
    body.send_keys('j')
    body.send_keys('k')
    check('j/k keep a selected row', len(drv.find_elements(By.CSS_SELECTOR, '#rows tr.sel')) == 1)
    body.send_keys(Keys.ENTER)
    wait.until(lambda d: d.find_elements(By.ID, 'fix-title'))
    check('Enter opens the fix page', 'frob' in drv.find_element(By.ID, 'fix-title').text)
    check('xss: subject shown as text on the fix page', subj in drv.find_element(By.ID, 'fix-title').text)
    check('xss: branch shown as text on the fix page', branch in drv.find_element(By.ID, 'verdicts').text)
    check('fix page: dyad lines', ':' in drv.find_element(By.ID, 'dyad').text)
    check('fix page: timeline with the mainline release', 'mainline v6.2' in drv.find_element(By.ID, 'timeline').text)
    expl = drv.find_element(By.ID, 'explanation').text
    check('fix page: the classifier explanation with its features', 'P(security)' in expl and 'trailer:fixes' in expl
          and len(drv.find_elements(By.CSS_SELECTOR, '#features tr')) > 2)
    hunk = drv.find_element(By.ID, 'conflict-hunks').text
    check('fix page: the conflicting hunk, markup as text', 'net/core/a.c' in hunk and '<script>window.__xss=4</script>' in hunk)
    drv.save_screenshot(os.path.join(shots, 'fix.png'))
    # the token box keeps its value in sessionStorage for the tab
    drv.execute_script("sessionStorage.setItem('patchgap-token', arguments[0])", token)
    drv.refresh()
    wait.until(lambda d: d.find_elements(By.ID, 'd-branch'))
    check('token box filled from the session', drv.find_element(By.ID, 'token').get_attribute('value') == token)
    Select(drv.find_element(By.ID, 'd-branch')).select_by_value(branch)
    Select(drv.find_element(By.ID, 'd-state')).select_by_value('not_affected')
    Select(drv.find_element(By.ID, 'd-just')).select_by_value('vulnerable_code_not_in_execute_path')
    drv.find_element(By.ID, 'd-note').send_keys('frob is never queued on our hardware')
    drv.find_element(By.ID, 'd-submit').click()
    wait.until(lambda d: d.find_elements(By.ID, 'history') and d.find_elements(By.CSS_SELECTOR, '#history li'))
    hist = drv.find_element(By.ID, 'history').text
    check('decision shown in the history', 'decided by' in hist and 'never queued' in hist)
    check('decision shown beside the engine verdict',
          'not_affected' in drv.find_element(By.ID, 'verdicts').text and 'affected' in drv.find_element(By.ID, 'verdicts').text)
    drv.save_screenshot(os.path.join(shots, 'fix-decided.png'))
    drv.get(url + '/#/report')
    wait.until(lambda d: d.find_elements(By.ID, 'report-chart'))
    check('report view: chart and fixes', len(drv.find_elements(By.CSS_SELECTOR, '#report-fixes tr')) >= 2)
    drv.save_screenshot(os.path.join(shots, 'report.png'))
    drv.get(url + '/#/')
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#rows tr.row'))
    cells = [c.text for c in drv.find_elements(By.CSS_SELECTOR, '#rows td.cell')]
    check('matrix after the decision: vendor not affected (%s)' % cells, cells[2] == 'not affected')
    check('xss: no injected element anywhere',
          drv.execute_script("return document.querySelectorAll('main script, main img, th svg, td svg').length") == 0)
    check('xss: nothing ran', drv.execute_script('return window.__xss === undefined'))
finally:
    drv.quit()
    shutil.rmtree(profile, ignore_errors=True)
sys.exit(1 if nfail else 0)
