"""What a user chose in Settings, as plain data (stored by app/settings.py in QSettings)."""

from __future__ import annotations

from dataclasses import dataclass

FORMATS = ("docx", "srt", "vtt", "txt", "json", "rttm")


@dataclass
class Preferences:
    model: str = "base"  # "base" (packaged), a folder, or a registered fine-tuned model's name
    device: str = "auto"  # auto | cuda | cpu
    precision: str = "auto"  # auto | fp32 | fp16 | int8
    language: str = ""  # "" = detect
    speakers: int = 0  # 0 = automatic, else exactly N (1-8)
    hotwords: str = ""
    chinese: str = "simplified"
    auto_export: bool = False  # write the formats below beside each source file when a job ends
    export_formats: str = "docx,srt"
    export_folder: str = ""  # "" = beside the source
    theme: str = "system"  # system | light | dark
    ui_language: str = "system"  # system | en | zh_CN
    font_size: int = 0  # points; 0 = the system's
    data_folder: str = ""  # "" = the default user data folder
    input_device: str = ""  # by name; "" = the system default
    system_audio_device: str = ""  # by name; "" = none (microphone only)
    threads: int = 0  # 0 = all cores

    def formats(self) -> list[str]:
        return [f for f in (x.strip().lower() for x in self.export_formats.split(",")) if f in FORMATS]
