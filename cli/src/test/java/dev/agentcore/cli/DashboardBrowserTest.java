package dev.agentcore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real headless Chromium (Debian's {@code chromium} and {@code chromedriver}),
 * against a real control plane with a real agent: the page opens with the admin token, a build
 * made through the admin commands appears on the open page without a reload, and the new row's
 * timeline marks the replayed updates. Leaves the screenshot the README shows in
 * {@code target/dashboard.png} (copied to docs/ by hand when the page changes).
 */
class DashboardBrowserTest extends CommandLineProcesses {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private WebDriver browser;

    @AfterEach
    void closeBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    @Test
    void aBuildBoundaryAppearsOnTheOpenPageWithItsReplayMarked() throws Exception {
        startControlPlane("--store", "mem", "--http-listen", "127.0.0.1:0");
        String page = httpAddress();
        startAgent("dev", "--startup-script", "sleep 1");
        assertThat(admin("wait", "dev", "--timeout", "60s").exitCode()).isZero();
        String adminToken = Files.readString(directory.resolve("data/admin.token")).strip();
        String identity = Files.readString(directory.resolve("dev.identity")).strip();

        browser = chromium();
        browser.get(page + "/");
        browser.findElement(By.id("token")).sendKeys(adminToken);
        browser.findElement(By.cssSelector("#login button")).click();
        waitFor("build 1 READY in the list", () -> cell("dev", "build").equals("1") && cell("dev", "state").equals("READY"));
        browser.findElement(By.cssSelector("tr[data-workspace='dev'] td.name")).click();
        waitFor("build 1's timeline", () -> states(1).equals(List.of("CREATED:false", "STARTING:false", "READY:false")));
        // Set on this page only: gone if the page were loaded again.
        ((JavascriptExecutor) browser).executeScript("window.sameLoad = 'yes';");

        assertThat(admin("build", "start", "dev").exitCode()).isZero();

        waitFor("build 2 READY in the list", () -> cell("dev", "build").equals("2") && cell("dev", "state").equals("READY"));
        waitFor("build 2's timeline, replayed", () -> states(2).equals(
                List.of("CREATED:false", "STARTING:true", "READY:true")));
        assertThat(((JavascriptExecutor) browser).executeScript("return window.sameLoad;"))
                .as("the page was not reloaded").isEqualTo("yes");
        assertThat(states(1)).as("the retired row stays, as it was").containsExactly("CREATED:false", "STARTING:false",
                "READY:false");
        assertThat(browser.findElement(By.id("live")).getText()).isEqualTo("live");
        assertThat(browser.getPageSource()).doesNotContain(adminToken).doesNotContain(identity);

        Path screenshot = Path.of("target", "dashboard.png");
        Files.createDirectories(screenshot.getParent());
        Files.write(screenshot, ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
    }

    @Test
    void aWrongAdminTokenIsRefusedInWordsAndShowsNothing() throws Exception {
        startControlPlane("--store", "mem", "--http-listen", "127.0.0.1:0");
        String page = httpAddress();
        startAgent("dev");

        browser = chromium();
        browser.get(page + "/");
        browser.findElement(By.id("token")).sendKeys("not-the-admin-token");
        browser.findElement(By.cssSelector("#login button")).click();

        waitFor("the refusal", () -> browser.findElement(By.id("login-error")).getText()
                .contains("the dashboard's API needs the admin token"));
        assertThat(browser.findElements(By.cssSelector("tr[data-workspace]"))).isEmpty();
        assertThat(browser.findElement(By.id("login")).isDisplayed()).isTrue();
    }

    private static WebDriver chromium() {
        ChromeOptions options = new ChromeOptions();
        options.setBinary("/usr/bin/chromium");
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,720");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(Path.of("/usr/bin/chromedriver").toFile()).build();
        return new ChromeDriver(service, options);
    }

    /** The text of one cell of the workspace's line in the list; empty while the line is not there. */
    private String cell(String workspace, String column) {
        List<WebElement> cells = browser.findElements(By.cssSelector("tr[data-workspace='" + workspace + "'] td." + column));
        return cells.isEmpty() ? "" : cells.get(0).getText().strip();
    }

    /** The selected workspace's timeline of one build, as STATE:replay. */
    private List<String> states(int build) {
        return browser.findElements(By.cssSelector("#rows .row[data-build='" + build + "'] ol.timeline li")).stream()
                .map(step -> step.getAttribute("data-state") + ":" + step.getAttribute("data-replay"))
                .toList();
    }

    private void waitFor(String what, java.util.function.BooleanSupplier condition) {
        new WebDriverWait(browser, WAIT).withMessage(() -> what + "; the page: " + browser.findElement(By.tagName("body"))
                .getText()).until(driver -> condition.getAsBoolean());
    }
}
