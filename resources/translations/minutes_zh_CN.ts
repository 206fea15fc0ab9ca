<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name></name>
    <message>
        <location filename="../../app/training_tab.py" line="+107"/>
        <source>The run &apos;{0}&apos; was stopped before it finished: Resume continues from its last checkpoint.</source>
        <translation>训练“{0}”在完成前已停止：点击“继续”将从最后的检查点接着训练。</translation>
    </message>
    <message>
        <location line="+75"/>
        <source>Cannot play: {0}</source>
        <translation>无法播放：{0}</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>A model named &apos;{0}&apos; already exists: choose another name.</source>
        <translation>名为“{0}”的模型已存在：请换一个名称。</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Starting the training process…</source>
        <translation>正在启动训练进程…</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>There is no stopped run named &apos;{0}&apos; to resume.</source>
        <translation>没有名为“{0}”的已停止训练可以继续。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>resuming &apos;{0}&apos; from its last checkpoint</source>
        <translation>从最后的检查点继续训练“{0}”</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Finished: the model &apos;{0}&apos; is registered.</source>
        <translation>已完成：模型“{0}”已注册。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{0}: Resume continues from the last checkpoint.</source>
        <translation>{0}：点击“继续”将从最后的检查点接着训练。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The run stopped with an error: {0}</source>
        <translation>训练因错误而停止：{0}</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>New transcriptions use the model &apos;{0}&apos;.</source>
        <translation>新的转录将使用模型“{0}”。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Minutes</source>
        <translation>Minutes</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>The model cannot be renamed: {0}</source>
        <translation>无法重命名模型：{0}</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>The model cannot be deleted: {0}</source>
        <translation>无法删除模型：{0}</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Cannot play {0}: {1}</source>
        <translation>无法播放 {0}：{1}</translation>
    </message>
</context>
<context>
    <name>App</name>
    <message>
        <location filename="../../app/window.py" line="+66"/>
        <source>Live</source>
        <translation>实时</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Files</source>
        <translation>文件</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Transcript</source>
        <translation>转录稿</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Library</source>
        <translation>会议库</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Training</source>
        <translation>训练</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Model not loaded yet</source>
        <translation>模型尚未加载</translation>
    </message>
    <message>
        <location line="+55"/>
        <source>Whisper base (built in)</source>
        <translation>Whisper base（内置）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{0} (fine-tuned)</source>
        <translation>{0}（微调）</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Something went wrong: {0}</source>
        <translation>出错了：{0}</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>This meeting cannot be opened: {0}</source>
        <translation>无法打开此会议：{0}</translation>
    </message>
    <message>
        <location line="+7"/>
        <location line="+23"/>
        <source>{0} — Minutes</source>
        <translation>{0} — Minutes</translation>
    </message>
    <message>
        <location line="-23"/>
        <source>Live meeting</source>
        <translation>实时会议</translation>
    </message>
    <message>
        <location line="+18"/>
        <location line="+78"/>
        <source>Minutes</source>
        <translation>Minutes</translation>
    </message>
    <message>
        <location line="-51"/>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>The new language is used fully after a restart.</source>
        <translation>重新启动后将完全使用新语言。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>a live recording (it will be stopped and saved)</source>
        <translation>一个实时录音（将停止并保存）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>files being transcribed (they will be cancelled)</source>
        <translation>正在转录的文件（将被取消）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>a training run (it will be paused; Resume continues it)</source>
        <translation>一次训练（将暂停；点击“继续”可接着训练）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Quit Minutes?</source>
        <translation>退出 Minutes？</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Minutes is still working on {0}. Quit anyway?</source>
        <translation>Minutes 仍在处理{0}。仍要退出吗？</translation>
    </message>
    <message>
        <location line="+0"/>
        <source> and </source>
        <translation>以及</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>About Minutes</source>
        <translation>关于 Minutes</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&lt;b&gt;Minutes&lt;/b&gt;&lt;p&gt;Meeting transcription on your own machine: nothing leaves your computer.&lt;/p&gt;</source>
        <translation>&lt;b&gt;Minutes&lt;/b&gt;&lt;p&gt;在您自己的电脑上转录会议：任何数据都不会离开您的计算机。&lt;/p&gt;</translation>
    </message>
</context>
<context>
    <name>AugmentPage</name>
    <message>
        <location filename="../../ui/training/augment_page.py" line="+37"/>
        <source>&amp;SpecAugment (masks in time and frequency)</source>
        <translation>SpecAugment（时间和频率遮蔽）(&amp;S)</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>&amp;Noise at a signal-to-noise ratio</source>
        <translation>按信噪比加入噪声(&amp;N)</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>S&amp;peed perturbation</source>
        <translation>语速扰动(&amp;P)</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Add data on the Data page to see one of your clips here.</source>
        <translation>在“数据”页添加数据后，这里会显示您的一段录音。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Before (log-mel)</source>
        <translation>增强前（对数梅尔频谱）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>After augmentation</source>
        <translation>增强后</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Show another draw</source>
        <translation>换一次随机抽样(&amp;S)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Play &amp;before</source>
        <translation>播放增强前(&amp;B)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Play &amp;after</source>
        <translation>播放增强后(&amp;A)</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>SpecAugment</source>
        <translation>SpecAugment</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Time masks:</source>
        <translation>时间遮蔽数：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Frequency masks:</source>
        <translation>频率遮蔽数：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Noise</source>
        <translation>噪声</translation>
    </message>
    <message>
        <location line="+0"/>
        <location line="+3"/>
        <source>Probability:</source>
        <translation>概率：</translation>
    </message>
    <message>
        <location line="-2"/>
        <source>Lowest SNR (dB):</source>
        <translation>最低信噪比（dB）：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Highest SNR (dB):</source>
        <translation>最高信噪比（dB）：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Speed</source>
        <translation>语速</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Slowest:</source>
        <translation>最慢：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Fastest:</source>
        <translation>最快：</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Clip: {0}</source>
        <translation>片段：{0}</translation>
    </message>
</context>
<context>
    <name>Autosaver</name>
    <message>
        <location filename="../../ui/transcript/autosave.py" line="+277"/>
        <source>The disk is full: the transcript could not be saved to {path}.</source>
        <translation>磁盘已满：无法将转录稿保存到 {path}。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The folder {folder} cannot be written to (read-only or no permission).</source>
        <translation>无法写入文件夹 {folder}（只读或没有权限）。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The folder {folder} does not exist any more.</source>
        <translation>文件夹 {folder} 已不存在。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The transcript could not be saved to {path} ({detail}).</source>
        <translation>无法将转录稿保存到 {path}（{detail}）。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Your edits are kept in the editor; press Ctrl+S to try again.</source>
        <translation>您的修改仍保留在编辑器中；按 Ctrl+S 重试。</translation>
    </message>
</context>
<context>
    <name>DataPage</name>
    <message>
        <location filename="../../ui/training/data_page.py" line="+38"/>
        <source>Add &amp;meeting</source>
        <translation>添加会议(&amp;M)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Add &amp;TSV or manifest…</source>
        <translation>添加 TSV 或清单(&amp;T)…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Add &amp;folder…</source>
        <translation>添加文件夹(&amp;F)…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>C&amp;lear</source>
        <translation>清空(&amp;L)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Corrected meeting:</source>
        <translation>已更正的会议：</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Add corrected meetings, a folder of audio with .txt files, a TSV or a manifest.</source>
        <translation>添加已更正的会议、包含音频和 .txt 文件的文件夹、TSV 文件或清单。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Line</source>
        <translation>行</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Problem</source>
        <translation>问题</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>What to do</source>
        <translation>处理方法</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>&amp;Exclude bad rows</source>
        <translation>排除有问题的行(&amp;E)</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Names and products, separated by ;</source>
        <translation>人名和产品名，用 ; 分隔</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Totals:</source>
        <translation>合计：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Dev share:</source>
        <translation>验证集比例(&amp;D)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Split:</source>
        <translation>划分：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Te&amp;rms to watch:</source>
        <translation>关注的术语(&amp;R)：</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Problems found by the checker:</source>
        <translation>检查发现的问题：</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>Add data</source>
        <translation>添加数据</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Manifests and TSV (*.jsonl *.tsv *.txt *.json)</source>
        <translation>清单和 TSV (*.jsonl *.tsv *.txt *.json)</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Folder of audio and .txt files</source>
        <translation>音频和 .txt 文件所在的文件夹</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Reading and checking {0}…</source>
        <translation>正在读取并检查 {0}…</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>{0}: {1} utterances, {2} problems.</source>
        <translation>{0}：{1} 条语音，{2} 个问题。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>{0} cannot be used: {1}</source>
        <translation>{0} 无法使用：{1}</translation>
    </message>
    <message>
        <location line="+44"/>
        <source>{0} utterances, {1} min {2} s, {3} speakers ({4} rows left out)</source>
        <translation>{0} 条语音，{1} 分 {2} 秒，{3} 位说话人（已排除 {4} 行）</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>train {0} utterances ({1:.0f} s), dev {2} ({3:.0f} s), {4}</source>
        <translation>训练集 {0} 条（{1:.0f} 秒），验证集 {2} 条（{3:.0f} 秒），{4}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>by speaker</source>
        <translation>按说话人划分</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>by utterance</source>
        <translation>按语音划分</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>needs at least two utterances</source>
        <translation>至少需要两条语音</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Some rows have problems: exclude them or fix the data first.</source>
        <translation>有些行存在问题：请先排除它们或修正数据。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Add at least two utterances.</source>
        <translation>请至少添加两条语音。</translation>
    </message>
</context>
<context>
    <name>EvaluatePage</name>
    <message>
        <location filename="../../ui/training/evaluate_page.py" line="+20"/>
        <source>The scores appear here when a run has scored the model before and after.</source>
        <translation>训练对模型做过前后评分后，分数会显示在这里。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Measure</source>
        <translation>指标</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Before</source>
        <translation>训练前</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>After</source>
        <translation>训练后</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Term</source>
        <translation>术语</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Found before</source>
        <translation>训练前识别</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Found after</source>
        <translation>训练后识别</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Terms to watch:</source>
        <translation>关注的术语：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Worst utterances after training (struck: missed, underlined: inserted):</source>
        <translation>训练后错误最多的语音（删除线：漏识别；下划线：多识别）：</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Errors</source>
        <translation>错误数</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Words (diff against the reference)</source>
        <translation>文字（与参考文本的差异）</translation>
    </message>
    <message>
        <location line="+31"/>
        <source>Dev WER (lower is better)</source>
        <translation>验证集词错误率（越低越好）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Term recall (higher is better)</source>
        <translation>术语召回率（越高越好）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>General-set WER (forgetting)</source>
        <translation>通用集词错误率（遗忘检查）</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>not in the dev set</source>
        <translation>验证集中没有</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Play</source>
        <translation>播放</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Scores of the packaged model (before) and the fine-tuned one (after), on the dev set.</source>
        <translation>内置模型（训练前）与微调模型（训练后）在验证集上的分数。</translation>
    </message>
</context>
<context>
    <name>ExportPage</name>
    <message>
        <location filename="../../ui/training/export_page.py" line="+32"/>
        <source>&amp;Use for transcription</source>
        <translation>用于转录(&amp;U)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Re&amp;name…</source>
        <translation>重命名(&amp;N)…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Delete…</source>
        <translation>删除(&amp;D)…</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Fine-tuned models (exported to ONNX: fp32 and INT8):</source>
        <translation>微调模型（已导出为 ONNX：fp32 和 INT8）：</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>New transcriptions use: {0}</source>
        <translation>新的转录使用：{0}</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>No fine-tuned model yet.</source>
        <translation>还没有微调模型。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Rename model</source>
        <translation>重命名模型</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>New name:</source>
        <translation>新名称：</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Delete model</source>
        <translation>删除模型</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Delete the model &apos;{0}&apos;?</source>
        <translation>删除模型“{0}”？</translation>
    </message>
</context>
<context>
    <name>FileQueue</name>
    <message>
        <location filename="../../app/file_queue.py" line="+84"/>
        <source>The file does not exist (moved or deleted?).</source>
        <translation>文件不存在（已移动或删除？）。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Not an audio or video file Minutes can read ({0}).</source>
        <translation>不是 Minutes 能读取的音频或视频文件（{0}）。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>no extension</source>
        <translation>无扩展名</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <location line="+81"/>
        <source>Starting</source>
        <translation>正在启动</translation>
    </message>
    <message>
        <location line="+63"/>
        <source>Retry to run it again.</source>
        <translation>点击“重试”可再次运行。</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Preparing the model</source>
        <translation>正在准备模型</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Transcribing</source>
        <translation>正在转录</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Finding speakers</source>
        <translation>正在识别说话人</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Writing files</source>
        <translation>正在写入文件</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+49"/>
        <source>Saving</source>
        <translation>正在保存</translation>
    </message>
    <message>
        <location line="-24"/>
        <source>Preparing the speech model</source>
        <translation>正在准备语音模型</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>First use: the model is converted for this computer (about 15 s, once).</source>
        <translation>首次使用：正在为这台电脑转换模型（约 15 秒，仅一次）。</translation>
    </message>
    <message>
        <location line="+33"/>
        <source>Transcribed, but not saved: {0}</source>
        <translation>已转录，但未保存：{0}</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>{0}: {1}</source>
        <translation>{0}：{1}</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Exporting {0}…</source>
        <translation>正在导出 {0}…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Exported {0}</source>
        <translation>已导出 {0}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The export failed: {0}</source>
        <translation>导出失败：{0}</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Save the meeting first.</source>
        <translation>请先保存会议。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Saving the voice of {0}…</source>
        <translation>正在保存 {0} 的声纹…</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Saved the voice of {0}: later meetings name them.</source>
        <translation>已保存 {0} 的声纹：以后的会议将自动标注此人。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The voice of {0} was not saved: {1}</source>
        <translation>未能保存 {0} 的声纹：{1}</translation>
    </message>
</context>
<context>
    <name>FilesView</name>
    <message>
        <location filename="../../ui/files/view.py" line="+37"/>
        <source>Detect</source>
        <translation>自动检测</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>English</source>
        <translation>英语</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Chinese</source>
        <translation>中文</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>German</source>
        <translation>德语</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>French</source>
        <translation>法语</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Spanish</source>
        <translation>西班牙语</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Japanese</source>
        <translation>日语</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Russian</source>
        <translation>俄语</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Portuguese</source>
        <translation>葡萄牙语</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Italian</source>
        <translation>意大利语</translation>
    </message>
    <message>
        <location line="+62"/>
        <source>&lt;h3&gt;Drop recordings here&lt;/h3&gt;&lt;p&gt;Audio or video files, or whole folders, anywhere on the window — or use &lt;b&gt;Open…&lt;/b&gt; (Ctrl+O).&lt;/p&gt;&lt;p&gt;Each file is transcribed with speakers and chapters, then opens in the editor.&lt;/p&gt;</source>
        <translation>&lt;h3&gt;将录音拖放到这里&lt;/h3&gt;&lt;p&gt;可将音频、视频文件或整个文件夹拖放到窗口任意位置，也可以使用&lt;b&gt;打开…&lt;/b&gt;（Ctrl+O）。&lt;/p&gt;&lt;p&gt;每个文件都会转录并标注说话人和章节，然后在编辑器中打开。&lt;/p&gt;</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Open…</source>
        <translation>打开…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Open transcript</source>
        <translation>打开转录稿</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Remove from queue</source>
        <translation>从队列中移除</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Options for new files</source>
        <translation>新文件的选项</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Agenda for chapters: budget; hiring, candidates; roadmap</source>
        <translation>用于划分章节的议程：预算；招聘，候选人；路线图</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Names and terms to spell right</source>
        <translation>需要正确拼写的人名和术语</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Whisper base (built in)</source>
        <translation>Whisper base（内置）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Save Word and subtitle files beside each recording</source>
        <translation>在每个录音旁保存 Word 和字幕文件</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Speakers:</source>
        <translation>说话人：</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Model:</source>
        <translation>模型：</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>&amp;Language:</source>
        <translation>语言(&amp;L)：</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Agenda:</source>
        <translation>议程(&amp;A)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Hotwords:</source>
        <translation>热词(&amp;H)：</translation>
    </message>
    <message>
        <location line="+52"/>
        <source>Open recordings</source>
        <translation>打开录音</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Audio and video (*.wav *.flac *.ogg *.opus *.mp3 *.m4a *.aac *.wma *.mp4 *.mkv *.webm *.mov);;All files (*)</source>
        <translation>音频和视频 (*.wav *.flac *.ogg *.opus *.mp3 *.m4a *.aac *.wma *.mp4 *.mkv *.webm *.mov);;所有文件 (*)</translation>
    </message>
</context>
<context>
    <name>HitListModel</name>
    <message>
        <location filename="../../ui/library/model.py" line="+251"/>
        <location line="+8"/>
        <source>in the title</source>
        <translation>在标题中</translation>
    </message>
</context>
<context>
    <name>JobQueueModel</name>
    <message>
        <location filename="../../ui/files/queue_model.py" line="+81"/>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Time left</source>
        <translation>剩余时间</translation>
    </message>
    <message>
        <location line="+52"/>
        <source>Waiting</source>
        <translation>等待中</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Starting</source>
        <translation>正在启动</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Done</source>
        <translation>已完成</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Error: {0}</source>
        <translation>错误：{0}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Error</source>
        <translation>错误</translation>
    </message>
</context>
<context>
    <name>LevelMeter</name>
    <message>
        <location filename="../../ui/live/view.py" line="+44"/>
        <source>Input level</source>
        <translation>输入电平</translation>
    </message>
</context>
<context>
    <name>LibraryView</name>
    <message>
        <location filename="../../ui/library/view.py" line="+63"/>
        <location line="+1"/>
        <source>Search all meetings</source>
        <translation>搜索所有会议</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Meetings</source>
        <translation>会议</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Search results</source>
        <translation>搜索结果</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Nothing found</source>
        <translation>未找到结果</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>&amp;Open</source>
        <translation>打开(&amp;O)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Rename…</source>
        <translation>重命名(&amp;R)…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Delete…</source>
        <translation>删除(&amp;D)…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>&amp;Find in meetings</source>
        <translation>在会议中查找(&amp;F)</translation>
    </message>
    <message>
        <location line="+124"/>
        <source>Opening the library…</source>
        <translation>正在打开会议库…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reading the meetings on this computer.</source>
        <translation>正在读取这台电脑上的会议。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No meetings yet</source>
        <translation>还没有会议</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Drop a recording on the window or start a live meeting: it will be listed here.</source>
        <translation>将录音拖放到窗口上，或开始一场实时会议：会议将列在这里。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>1 meeting</source>
        <translation>1 场会议</translation>
    </message>
    <message numerus="yes">
        <location line="+0"/>
        <source>%n meetings</source>
        <translation>
            <numerusform>%n 场会议</numerusform>
        </translation>
    </message>
    <message>
        <location line="+4"/>
        <source>1 match</source>
        <translation>1 处匹配</translation>
    </message>
    <message numerus="yes">
        <location line="+0"/>
        <source>%n matches</source>
        <translation>
            <numerusform>%n 处匹配</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source>The first %n matches</source>
        <translation>
            <numerusform>前 %n 处匹配</numerusform>
        </translation>
    </message>
    <message>
        <location line="+5"/>
        <source>No meeting mentions “%1”.</source>
        <translation>没有会议提到“%1”。</translation>
    </message>
    <message>
        <location line="+132"/>
        <source>Delete meeting</source>
        <translation>删除会议</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Delete “%1”?</source>
        <translation>删除“%1”？</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+9"/>
        <source>The transcript and its edits will be deleted.</source>
        <translation>转录稿及其修改将被删除。</translation>
    </message>
    <message>
        <location line="-8"/>
        <source>Also delete the recording</source>
        <translation>同时删除录音</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The transcript and its edits will be deleted. The recording stays where it is:
%1</source>
        <translation>转录稿及其修改将被删除。录音仍保留在原处：
%1</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Library</source>
        <translation>会议库</translation>
    </message>
</context>
<context>
    <name>LiveController</name>
    <message>
        <location filename="../../app/live_controller.py" line="+89"/>
        <source>Loading the model for live transcription…</source>
        <translation>正在加载实时转录模型…</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>No audio inputs: {0}</source>
        <translation>没有音频输入：{0}</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>Loading the model…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <location line="+44"/>
        <source>Recover the interrupted recording?</source>
        <translation>恢复中断的录音？</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>A live recording from {0} ({1} min of audio) was interrupted. Its audio is safe. Transcribe it now and add it to the Library?</source>
        <translation>{0} 的一次实时录音（{1} 分钟音频）被中断了，音频已安全保存。现在转录它并添加到会议库吗？</translation>
    </message>
    <message>
        <location line="+14"/>
        <location line="+21"/>
        <source>Recovering the interrupted recording…</source>
        <translation>正在恢复中断的录音…</translation>
    </message>
    <message>
        <location line="-2"/>
        <source>Preparing the model… {0} %</source>
        <translation>正在准备模型… {0} %</translation>
    </message>
    <message>
        <location line="+65"/>
        <source>Saving the meeting…</source>
        <translation>正在保存会议…</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>The meeting was recorded in {0} but could not be added to the Library: {1}</source>
        <translation>会议已录制到 {0}，但无法添加到会议库：{1}</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>What was recorded is in {0}.</source>
        <translation>已录制的内容位于 {0}。</translation>
    </message>
</context>
<context>
    <name>LiveView</name>
    <message>
        <location filename="../../ui/live/view.py" line="+50"/>
        <source>Agenda for chapters: budget; hiring; roadmap</source>
        <translation>用于划分章节的议程：预算；招聘；路线图</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Inputs</source>
        <translation>输入</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>&amp;Microphone:</source>
        <translation>麦克风(&amp;M)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;System audio:</source>
        <translation>系统音频(&amp;S)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Agenda:</source>
        <translation>议程(&amp;A)：</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Start recording (Ctrl+R)</source>
        <translation>开始录音（Ctrl+R）</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+73"/>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location line="-71"/>
        <source>Pause and resume (Ctrl+P)</source>
        <translation>暂停和继续（Ctrl+P）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Stop, save and open in the editor (Ctrl+.)</source>
        <translation>停止、保存并在编辑器中打开（Ctrl+.）</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>The transcript appears here as people speak.</source>
        <translation>发言时转录内容会实时显示在这里。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Live transcript</source>
        <translation>实时转录</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>System default</source>
        <translation>系统默认</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>None (microphone only)</source>
        <translation>无（仅麦克风）</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>{0} (not connected)</source>
        <translation>{0}（未连接）</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Starting…</source>
        <translation>正在启动…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Recording</source>
        <translation>正在录音</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Paused: nothing is recorded</source>
        <translation>已暂停：不会录制任何内容</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Finishing the last words…</source>
        <translation>正在完成最后几句…</translation>
    </message>
    <message>
        <location line="+110"/>
        <source>Speaker {0}</source>
        <translation>说话人 {0}</translation>
    </message>
</context>
<context>
    <name>LossPlot</name>
    <message>
        <location filename="../../ui/training/plot.py" line="+50"/>
        <source>step (of {0})</source>
        <translation>步数（共 {0} 步）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>dev WER</source>
        <translation>验证集词错误率</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../ui/main_window.py" line="+28"/>
        <source>Word document (.docx)</source>
        <translation>Word 文档 (.docx)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Subtitles (.srt)</source>
        <translation>字幕 (.srt)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Web subtitles (.vtt)</source>
        <translation>网页字幕 (.vtt)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Plain text (.txt)</source>
        <translation>纯文本 (.txt)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Transcript JSON (.json)</source>
        <translation>转录稿 JSON (.json)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Who spoke when (.rttm)</source>
        <translation>说话人时间轴 (.rttm)</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Minutes</source>
        <translation>Minutes</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>● Recording</source>
        <translation>● 正在录音</translation>
    </message>
    <message>
        <location line="+72"/>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Open recordings…</source>
        <translation>打开录音(&amp;O)…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Export</source>
        <translation>导出(&amp;E)</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;About Minutes</source>
        <translation>关于 Minutes(&amp;A)</translation>
    </message>
</context>
<context>
    <name>MeetingDelegate</name>
    <message>
        <location filename="../../ui/library/delegate.py" line="+94"/>
        <source>recording missing</source>
        <translation>录音缺失</translation>
    </message>
</context>
<context>
    <name>MeetingListModel</name>
    <message>
        <location filename="../../ui/library/model.py" line="-206"/>
        <source>Live meeting</source>
        <translation>实时会议</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Untitled meeting</source>
        <translation>未命名会议</translation>
    </message>
    <message>
        <location line="+70"/>
        <source>Today, %1</source>
        <translation>今天 %1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Yesterday, %1</source>
        <translation>昨天 %1</translation>
    </message>
    <message>
        <location line="+44"/>
        <source>The recording is missing: %1</source>
        <translation>录音缺失：%1</translation>
    </message>
</context>
<context>
    <name>PlayerBar</name>
    <message>
        <location filename="../../ui/transcript/player_bar.py" line="+36"/>
        <source>Speed</source>
        <translation>速度</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{speed}×</source>
        <translation>{speed}×</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Loop segment</source>
        <translation>循环播放片段</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Repeat the current segment</source>
        <translation>重复播放当前片段</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Player</source>
        <translation>播放器</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Play</source>
        <translation>播放</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Play or pause (Space)</source>
        <translation>播放或暂停（空格键）</translation>
    </message>
</context>
<context>
    <name>SegmentTextEdit</name>
    <message>
        <location filename="../../ui/transcript/delegate.py" line="+84"/>
        <source>Segment text</source>
        <translation>片段文本</translation>
    </message>
</context>
<context>
    <name>SegmentView</name>
    <message>
        <location line="+282"/>
        <source>Transcript segments</source>
        <translation>转录片段</translation>
    </message>
</context>
<context>
    <name>SettingsPage</name>
    <message>
        <location filename="../../ui/training/settings_page.py" line="+51"/>
        <source>Quick</source>
        <translation>快速</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Standard</source>
        <translation>标准</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Thorough</source>
        <translation>充分</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>&amp;Freeze the encoder (train only the decoder)</source>
        <translation>冻结编码器（只训练解码器）(&amp;F)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>&amp;Preset:</source>
        <translation>预设(&amp;P)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Expected time:</source>
        <translation>预计时间：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Learning rate:</source>
        <translation>学习率(&amp;L)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Steps:</source>
        <translation>步数(&amp;S)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Batch duration:</source>
        <translation>批次时长(&amp;B)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Accumulation:</source>
        <translation>梯度累积(&amp;A)：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Adapters (LoRA &amp;rank):</source>
        <translation>适配器（LoRA 秩）(&amp;R)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Mixed precision (AMP):</source>
        <translation>混合精度（AMP）(&amp;M)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Device:</source>
        <translation>设备(&amp;D)：</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Config file (config.toml):</source>
        <translation>配置文件（config.toml）：</translation>
    </message>
    <message>
        <location line="+49"/>
        <source>about {0:.0f} s</source>
        <translation>约 {0:.0f} 秒</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>about {0:.0f} min</source>
        <translation>约 {0:.0f} 分钟</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>about {0:.1f} h</source>
        <translation>约 {0:.1f} 小时</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>measured on this machine</source>
        <translation>在本机实测</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>estimated for 2 CPU cores</source>
        <translation>按 2 个 CPU 核心估算</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{0} of training ({1}), plus scoring and export</source>
        <translation>训练{0}（{1}），另加评分和导出</translation>
    </message>
    <message>
        <source>about {0:.0f} min of training ({1}), plus scoring and export</source>
        <translation type="vanished">训练约 {0:.0f} 分钟（{1}），另加评分和导出</translation>
    </message>
</context>
<context>
    <name>SettingsView</name>
    <message>
        <location filename="../../ui/settings/view.py" line="+33"/>
        <source>Automatic (GPU when available)</source>
        <translation>自动（有 GPU 时使用 GPU）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>NVIDIA GPU (CUDA)</source>
        <translation>NVIDIA GPU (CUDA)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Automatic (INT8 on CPU, FP16 on GPU)</source>
        <translation>自动（CPU 上用 INT8，GPU 上用 FP16）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>INT8</source>
        <translation>INT8</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>FP32</source>
        <translation>FP32</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>FP16</source>
        <translation>FP16</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+5"/>
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location line="-4"/>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Simplified</source>
        <translation>简体</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Traditional</source>
        <translation>繁体</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>As recognised</source>
        <translation>保持识别结果</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>Whisper base (built in)</source>
        <translation>Whisper base（内置）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>All cores</source>
        <translation>全部核心</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Recognition</source>
        <translation>识别</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Model:</source>
        <translation>模型(&amp;M)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Device:</source>
        <translation>设备(&amp;D)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Precision:</source>
        <translation>精度(&amp;P)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>CPU &amp;threads:</source>
        <translation>CPU 线程数(&amp;T)：</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Names and terms to spell right</source>
        <translation>需要正确拼写的人名和术语</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Defaults for new transcripts</source>
        <translation>新转录的默认设置</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Language:</source>
        <translation>语言(&amp;L)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Chinese &amp;script:</source>
        <translation>中文简繁(&amp;S)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Speakers:</source>
        <translation>说话人(&amp;S)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Hotwords:</source>
        <translation>热词(&amp;H)：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Export automatically when a file is transcribed</source>
        <translation>文件转录完成后自动导出</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Beside the recording</source>
        <translation>与录音放在同一位置</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+29"/>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <location line="-24"/>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Formats:</source>
        <translation>格式：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Folder:</source>
        <translation>文件夹(&amp;F)：</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>System</source>
        <translation>系统</translation>
    </message>
    <message>
        <location line="+1"/>
        <source> pt</source>
        <translation> 磅</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Appearance</source>
        <translation>外观</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Theme:</source>
        <translation>主题(&amp;T)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Interface language:</source>
        <translation>界面语言(&amp;I)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Font size:</source>
        <translation>字号(&amp;F)：</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Default user data folder</source>
        <translation>默认用户数据文件夹</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Storage and audio</source>
        <translation>存储和音频</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Data folder:</source>
        <translation>数据文件夹(&amp;D)：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Microphone:</source>
        <translation>麦克风(&amp;M)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>S&amp;ystem audio:</source>
        <translation>系统音频(&amp;Y)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>A new data folder is used after a restart.</source>
        <translation>新的数据文件夹将在重新启动后生效。</translation>
    </message>
    <message>
        <location line="+35"/>
        <source>System default</source>
        <translation>系统默认</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>None</source>
        <translation>无</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>{0} (not connected)</source>
        <translation>{0}（未连接）</translation>
    </message>
    <message>
        <location line="+74"/>
        <source>Choose a folder</source>
        <translation>选择文件夹</translation>
    </message>
</context>
<context>
    <name>SpeakerTimeline</name>
    <message>
        <location filename="../../ui/transcript/timeline.py" line="+32"/>
        <source>Speaker timeline</source>
        <translation>说话人时间轴</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Who speaks when. Click to play from there.</source>
        <translation>谁在何时发言。点击即可从该处播放。</translation>
    </message>
    <message>
        <location line="+118"/>
        <source>No speakers in this transcript</source>
        <translation>此转录稿中没有说话人</translation>
    </message>
</context>
<context>
    <name>TrainPage</name>
    <message>
        <location filename="../../ui/training/train_page.py" line="+40"/>
        <source>e.g. team-names</source>
        <translation>例如 team-names</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Start training</source>
        <translation>开始训练(&amp;S)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Pause</source>
        <translation>暂停(&amp;P)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Cancel</source>
        <translation>取消(&amp;C)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Resume</source>
        <translation>继续(&amp;R)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Not started.</source>
        <translation>尚未开始。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>step %v of %m</source>
        <translation>第 %v 步，共 %m 步</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Model &amp;name:</source>
        <translation>模型名称(&amp;N)：</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Stage:</source>
        <translation>阶段：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Progress:</source>
        <translation>进度：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Time left:</source>
        <translation>剩余时间：</translation>
    </message>
    <message>
        <location line="+42"/>
        <source>step {0}/{1}  loss {2:.3f}</source>
        <translation>第 {0}/{1} 步  损失 {2:.3f}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>dev WER at step {0}: {1:.1f}%</source>
        <translation>第 {0} 步验证集词错误率：{1:.1f}%</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Scoring the built-in model (before)</source>
        <translation>正在为内置模型评分（训练前）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Exporting the model to ONNX</source>
        <translation>正在将模型导出为 ONNX</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Scoring the fine-tuned model (after)</source>
        <translation>正在为微调模型评分（训练后）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Training: {0}</source>
        <translation>训练中：{0}</translation>
    </message>
</context>
<context>
    <name>TrainingView</name>
    <message>
        <source>&lt;h3&gt;Teach Minutes your vocabulary&lt;/h3&gt;&lt;p&gt;Fine-tuning the recognizer on your own recordings is not part of this version yet.&lt;/p&gt;&lt;p&gt;Meanwhile, correct names and terms in the transcript editor: corrected meetings are what the fine-tune wizard will train on, and the &lt;b&gt;Hotwords&lt;/b&gt; option (Files, Settings) already steers the spelling of names.&lt;/p&gt;</source>
        <translation type="vanished">&lt;h3&gt;让 Minutes 学会您的词汇&lt;/h3&gt;&lt;p&gt;用您自己的录音微调识别模型的功能尚未包含在此版本中。&lt;/p&gt;&lt;p&gt;在此之前，请在转录编辑器中更正人名和术语：微调向导将以更正过的会议作为训练数据；而&lt;b&gt;热词&lt;/b&gt;选项（文件、设置）现在就能引导人名的拼写。&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../../ui/training/view.py" line="+28"/>
        <source>1 Data</source>
        <translation>1 数据</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>2 Augmentation</source>
        <translation>2 数据增强</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>3 Settings</source>
        <translation>3 设置</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>4 Train</source>
        <translation>4 训练</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>5 Evaluate</source>
        <translation>5 评估</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>6 Export</source>
        <translation>6 导出</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>&lt;b&gt;Training needs the full variant of Minutes.&lt;/b&gt; This installer leaves PyTorch out to stay small. Install the full variant to fine-tune models; transcription, live capture, speakers, chapters and export work the same in both.</source>
        <translation>&lt;b&gt;训练需要 Minutes 的完整版。&lt;/b&gt;此安装包为保持小巧而未包含 PyTorch。请安装完整版来微调模型；转录、实时录音、说话人、章节和导出在两个版本中完全相同。</translation>
    </message>
</context>
<context>
    <name>TranscriptEditor</name>
    <message>
        <location filename="../../ui/transcript/commands.py" line="+33"/>
        <location filename="../../ui/transcript/editor.py" line="+385"/>
        <source>Edit text</source>
        <translation>编辑文本</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>Rename speaker to “{name}”</source>
        <translation>将说话人重命名为“{name}”</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Merge “{drop}” into “{keep}”</source>
        <translation>将“{drop}”合并到“{keep}”</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Assign to “{name}”</source>
        <translation>指定给“{name}”</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>Split segment</source>
        <translation>拆分片段</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Join segments</source>
        <translation>合并片段</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Rename chapter to “{title}”</source>
        <translation>将章节重命名为“{title}”</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Move chapter boundary</source>
        <translation>移动章节边界</translation>
    </message>
    <message>
        <location line="+18"/>
        <location filename="../../ui/transcript/editor.py" line="+746"/>
        <source>Relink audio</source>
        <translation>重新关联音频</translation>
    </message>
    <message>
        <location filename="../../ui/transcript/editor.py" line="-911"/>
        <source>Find in transcript (Ctrl+F)</source>
        <translation>在转录稿中查找（Ctrl+F）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Find in transcript</source>
        <translation>在转录稿中查找</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Previous</source>
        <translation>上一个</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Previous match (Shift+F3)</source>
        <translation>上一个匹配（Shift+F3）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Next</source>
        <translation>下一个</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Next match (F3)</source>
        <translation>下一个匹配（F3）</translation>
    </message>
    <message>
        <location line="+20"/>
        <location line="+195"/>
        <source>Relink audio…</source>
        <translation>重新关联音频…</translation>
    </message>
    <message>
        <location line="-183"/>
        <location line="+10"/>
        <source>Chapters</source>
        <translation>章节</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>This meeting has no chapters.</source>
        <translation>此会议没有章节。</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Speakers</source>
        <translation>说话人</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Speakers and talk time</source>
        <translation>说话人和发言时长</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>No speakers: this transcript was made without telling voices apart. Give a segment a speaker with Ctrl+0.</source>
        <translation>没有说话人：此转录稿未区分不同的声音。可按 Ctrl+0 为片段指定说话人。</translation>
    </message>
    <message>
        <location line="+61"/>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Redo</source>
        <translation>重做</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Save the transcript now</source>
        <translation>立即保存转录稿</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Find…</source>
        <translation>查找…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Find next</source>
        <translation>查找下一个</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Find previous</source>
        <translation>查找上一个</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Edit the selected segment&apos;s text</source>
        <translation>编辑所选片段的文本</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Split segment here</source>
        <translation>在此处拆分片段</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Split the segment at the cursor or the word clicked last</source>
        <translation>在光标处或最后点击的词处拆分片段</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Join with next segment</source>
        <translation>与下一片段合并</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Rename speaker…</source>
        <translation>重命名说话人…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Merge speakers…</source>
        <translation>合并说话人…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Change speaker…</source>
        <translation>更改说话人…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Assign to speaker</source>
        <translation>指定说话人</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Save speaker as voice profile…</source>
        <translation>将说话人保存为声纹…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Remember this voice so later meetings name the speaker</source>
        <translation>记住此声音，以后的会议将自动标注该说话人</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Rename chapter…</source>
        <translation>重命名章节…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Start chapter at selected segment</source>
        <translation>从所选片段开始新章节</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Move the chapter boundary to the selected segment</source>
        <translation>将章节边界移到所选片段</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Play/Pause</source>
        <translation>播放/暂停</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Play selected segment</source>
        <translation>播放所选片段</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Loop segment</source>
        <translation>循环播放片段</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Slower</source>
        <translation>减速</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Faster</source>
        <translation>加速</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Back 5 seconds</source>
        <translation>后退 5 秒</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Forward 5 seconds</source>
        <translation>前进 5 秒</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Point the transcript at its moved or renamed recording</source>
        <translation>将转录稿关联到已移动或重命名的录音</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Go to transcript</source>
        <translation>转到转录稿</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Go to speakers</source>
        <translation>转到说话人</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Go to chapters</source>
        <translation>转到章节</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Go to timeline</source>
        <translation>转到时间轴</translation>
    </message>
    <message>
        <location line="+51"/>
        <location line="+557"/>
        <source>New speaker</source>
        <translation>新说话人</translation>
    </message>
    <message>
        <location line="-492"/>
        <source>Speaker {n}</source>
        <translation>说话人 {n}</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Put the cursor between two words to split there.</source>
        <translation>将光标放在两个词之间，即可在该处拆分。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>There is no next segment to join.</source>
        <translation>没有可合并的下一片段。</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>The first chapter always starts at the beginning.</source>
        <translation>第一章总是从开头开始。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>That segment is not next to this chapter&apos;s start.</source>
        <translation>该片段与本章的开头不相邻。</translation>
    </message>
    <message>
        <location line="+46"/>
        <source>No matches</source>
        <translation>无匹配</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{n} matches</source>
        <translation>{n} 处匹配</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{i} of {n}</source>
        <translation>{i} / {n}</translation>
    </message>
    <message>
        <location line="+47"/>
        <source>No audio to play: relink the recording first.</source>
        <translation>没有可播放的音频：请先重新关联录音。</translation>
    </message>
    <message>
        <location line="+116"/>
        <source>(none)</source>
        <translation>（无）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The recording was not found: {path}. Relink it to play the audio.</source>
        <translation>找不到录音：{path}。重新关联后即可播放音频。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Loading audio…</source>
        <translation>正在加载音频…</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>The recording cannot be played: {error}</source>
        <translation>无法播放录音：{error}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Silent: no audio output</source>
        <translation>静音：无音频输出</translation>
    </message>
    <message>
        <location line="+47"/>
        <source>Not saved</source>
        <translation>未保存</translation>
    </message>
    <message>
        <location line="+141"/>
        <source>Rename speaker</source>
        <translation>重命名说话人</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>New name for {name}:</source>
        <translation>{name} 的新名称：</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Merge speakers</source>
        <translation>合并说话人</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Merge {name} into:</source>
        <translation>将 {name} 合并到：</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Change speaker</source>
        <translation>更改说话人</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Speaker of the selected segments:</source>
        <translation>所选片段的说话人：</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Save voice profile</source>
        <translation>保存声纹</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Name to give this voice in later meetings:</source>
        <translation>以后的会议中此声音的名称：</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Saving the voice of {name}…</source>
        <translation>正在保存 {name} 的声纹…</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>Recordings (*.wav *.flac *.ogg *.mp3 *.m4a *.mp4 *.mkv *.webm);;All files (*)</source>
        <translation>录音 (*.wav *.flac *.ogg *.mp3 *.m4a *.mp4 *.mkv *.webm);;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../../ui/transcript/models.py" line="+231"/>
        <source>{speaker}, {start} to {end}</source>
        <translation>{speaker}，{start} 至 {end}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>no speaker</source>
        <translation>无说话人</translation>
    </message>
    <message>
        <location line="+130"/>
        <source>Speaker</source>
        <translation>说话人</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Talk time</source>
        <translation>发言时长</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Share</source>
        <translation>占比</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>{name} ({id}): {time} of talk</source>
        <translation>{name}（{id}）：发言 {time}</translation>
    </message>
    <message>
        <location line="+45"/>
        <source>{start} to {end}</source>
        <translation>{start} 至 {end}</translation>
    </message>
</context>
</TS>
